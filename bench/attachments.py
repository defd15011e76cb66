"""Attachment upload benchmark: throughput and the server's resident memory growth.

Starts a real ``quietline serve`` (SQLite, loopback only) in a scratch data directory, uploads
files through ``POST /api/v1/reports`` as a streamed multipart body, and samples the server's
resident memory (``/proc/<pid>/status``) while it receives, cleans, encrypts and stores them.
Bounded: a fixed number of uploads, each with a timeout.

    .venv/bin/python -m bench.attachments [--mb 100] [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

BOUNDARY = "quietline-bench-boundary"
PIECE = 1024 * 1024


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class MemorySampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = rss_kib(pid)
        self.running = True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.01)


def multipart(name: str, size: int, head: bytes = b"") -> tuple[Iterator[bytes], int]:
    """A streamed multipart body holding the report and one file of ``size`` bytes."""
    report = json.dumps({"category": "financial", "body": "Benchmark report with a file."})
    before = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="report"\r\n'
        f"Content-Type: application/json\r\n\r\n{report}\r\n"
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    after = f"\r\n--{BOUNDARY}--\r\n".encode()

    def body() -> Iterator[bytes]:
        yield before
        if head:
            yield head
        sent = len(head)
        block = os.urandom(PIECE)
        while sent < size:
            take = min(PIECE, size - sent)
            yield block[:take]
            sent += take
        yield after

    return body(), len(before) + size + len(after)


def big_pdf(size: int) -> bytes:
    """A real PDF of about ``size`` bytes (incompressible image streams) with an author."""
    import pikepdf

    pdf = pikepdf.new()
    pdf.docinfo["/Author"] = "Bench Author"
    per_page = 4 * 1024 * 1024
    for _ in range(max(1, size // per_page)):
        page = pdf.add_blank_page()
        page.Contents = pdf.make_stream(os.urandom(per_page))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def upload(url: str, pid: int, name: str, size: int, head: bytes = b"") -> dict[str, float]:
    time.sleep(0.5)
    baseline = rss_kib(pid)
    sampler = MemorySampler(pid)
    sampler.start()
    if head and len(head) == size:
        stream, length = multipart(name, size, head)
    else:
        stream, length = multipart(name, size)
    started = time.perf_counter()
    answer = httpx.post(
        f"{url}/api/v1/reports",
        content=stream,
        headers={
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            "Content-Length": str(length),
        },
        timeout=600,
    )
    elapsed = time.perf_counter() - started
    sampler.running = False
    sampler.join()
    if answer.status_code != 201:
        raise RuntimeError(f"upload failed: {answer.status_code} {answer.text[:200]}")
    cleaned = answer.json()["attachments"][0]["cleaned"]
    return {
        "seconds": elapsed,
        "mb_per_s": size / 1_000_000 / elapsed,
        "rss_before_mb": baseline / 1024,
        "growth_mb": (sampler.peak - baseline) / 1024,
        "cleaned": float(cleaned),
    }


def run(megabytes: int, repeat: int, pdf_megabytes: int) -> None:
    size = megabytes * 1_000_000
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch) / "data"
        environ = {
            **os.environ,
            "QUIETLINE_DATA_DIR": str(data_dir),
            "QUIETLINE_DEV": "1",
            "QUIETLINE_PASSWORD_ITERATIONS": "1",
            "QUIETLINE_PASSWORD_MEMORY_KIB": "1024",
            "QUIETLINE_ATTACHMENT_MAX_FILE_BYTES": str(max(size, pdf_megabytes * 1_100_000)),
            "QUIETLINE_ATTACHMENT_MAX_TOTAL_BYTES": str(max(size, pdf_megabytes * 1_100_000)),
            "QUIETLINE_ATTACHMENT_CLEAN_MAX_BYTES": str(pdf_megabytes * 1_100_000),
        }
        cli = [sys.executable, "-m", "intake.cli", "--data-dir", str(data_dir)]
        subprocess.run([*cli, "demo"], env=environ, check=True, capture_output=True)
        port = free_port()
        server = subprocess.Popen(
            [*cli, "serve", "--port", str(port)],
            env=environ,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(url + "/", timeout=1)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            httpx.post(
                f"{url}/api/v1/reports",
                json={"category": "financial", "body": "warm-up"},
                timeout=30,
            )
            print(
                f"{'upload':<34} {'MB/s':>7} {'seconds':>8} {'RSS before':>11} {'RSS growth':>11}"
            )
            results = [upload(url, server.pid, "bench.bin", size) for _ in range(repeat)]
            for result in results:
                print(
                    f"{f'{megabytes} MB random file (not cleanable)':<34} "
                    f"{result['mb_per_s']:>7.1f} {result['seconds']:>8.2f} "
                    f"{result['rss_before_mb']:>8.1f} MB {result['growth_mb']:>8.1f} MB"
                )
            print(
                f"median: {statistics.median(r['mb_per_s'] for r in results):.1f} MB/s, "
                f"max RSS growth {max(r['growth_mb'] for r in results):.1f} MB"
            )
            if pdf_megabytes:
                pdf = big_pdf(pdf_megabytes * 1_000_000)
                result = upload(url, server.pid, "bench.pdf", len(pdf), head=pdf)
                print(
                    f"{f'{len(pdf) / 1e6:.0f} MB PDF (cleaned: pikepdf)':<34} "
                    f"{result['mb_per_s']:>7.1f} {result['seconds']:>8.2f} "
                    f"{result['rss_before_mb']:>8.1f} MB {result['growth_mb']:>8.1f} MB"
                    f"{'' if result['cleaned'] else '  (NOT cleaned)'}"
                )
        finally:
            server.terminate()
            server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=100, help="size of each upload in MB")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pdf-mb", type=int, default=50, help="size of the PDF upload (0: none)")
    args = parser.parse_args()
    run(args.mb, args.repeat, args.pdf_mb)


if __name__ == "__main__":
    main()
