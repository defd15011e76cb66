"""Attachment benchmark: upload and export throughput and the server's resident memory growth.

Starts a real ``quietline serve`` (SQLite, loopback only) in a scratch data directory, uploads
files through ``POST /api/v1/reports`` as a streamed multipart body, and samples the server's
resident memory (``/proc/<pid>/status``) while it receives, cleans, encrypts and stores them.
Then it files one case holding ``--export-mb`` of attachments (at most 50 MB a file, the default
limit), signs in as a demo officer and exports the case (``POST /api/v1/cases/{ref}/export``),
sampling the server's memory while it decrypts and streams the file.
Bounded: a fixed number of uploads and one export, each with a timeout.

    .venv/bin/python -m bench.attachments [--mb 100] [--repeat 3] [--export-mb 200]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
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
import pyotp

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


def multipart(
    files: list[tuple[str, int, bytes]], category: str = "financial"
) -> tuple[Iterator[bytes], int]:
    """A streamed multipart body holding the report and its files, each given as a name, a
    size and its first bytes (random bytes follow up to the size)."""
    report = json.dumps({"category": category, "body": "Benchmark report with files."})
    first = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="report"\r\n'
        f"Content-Type: application/json\r\n\r\n{report}\r\n"
    ).encode()
    heads = [
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        for name, _size, _head in files
    ]
    after = f"\r\n--{BOUNDARY}--\r\n".encode()

    def body() -> Iterator[bytes]:
        yield first
        block = os.urandom(PIECE)
        for number, ((_name, size, head), part_head) in enumerate(zip(files, heads, strict=True)):
            yield (b"\r\n" if number else b"") + part_head
            if head:
                yield head
            sent = len(head)
            while sent < size:
                take = min(PIECE, size - sent)
                yield block[:take]
                sent += take
        yield after

    length = (
        len(first)
        + sum(
            len(part_head) + size
            for part_head, (_name, size, _head) in zip(heads, files, strict=True)
        )
        + 2 * (len(files) - 1)
        + len(after)
    )
    return body(), length


def post_report(url: str, stream: Iterator[bytes], length: int) -> httpx.Response:
    """File a report whose multipart body streams from ``stream``."""
    return httpx.post(
        f"{url}/api/v1/reports",
        content=stream,
        headers={
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            "Content-Length": str(length),
        },
        timeout=600,
    )


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
    stream, length = multipart([(name, size, head if len(head) == size else b"")])
    started = time.perf_counter()
    answer = post_report(url, stream, length)
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


EXPORT_OFFICER = "officer@example.org"  # a demo officer of the receiving group
EXPORT_CATEGORY = "safety"  # the upload runs file under another category
MAX_FILE_BYTES = 50_000_000  # the default per-file limit: a 200 MB case is four files


def demo_credentials(demo_output: str, email: str) -> tuple[str, str]:
    """The password and TOTP secret ``quietline demo`` printed for ``email``."""
    found = re.search(
        rf"staff {re.escape(email)} .*: password (\S+)  TOTP secret (\S+)", demo_output
    )
    if found is None:
        raise RuntimeError(f"quietline demo printed no credentials for {email}")
    return found.group(1), found.group(2)


def export_case(
    url: str, pid: int, megabytes: int, password: str, totp_secret: str
) -> dict[str, float]:
    """File one case holding ``megabytes`` of attachments, then export it as its officer."""
    total = megabytes * 1_000_000
    count = -(-total // MAX_FILE_BYTES)
    sizes = [total // count + (1 if index < total % count else 0) for index in range(count)]
    stream, length = multipart(
        [(f"evidence-{index}.bin", size, b"") for index, size in enumerate(sizes)],
        category=EXPORT_CATEGORY,
    )
    filed = post_report(url, stream, length)
    if filed.status_code != 201:
        raise RuntimeError(f"filing the export case failed: {filed.status_code} {filed.text[:200]}")
    with httpx.Client(base_url=url, timeout=600) as client:
        signed_in = client.post(
            "/api/v1/staff/login",
            json={
                "email": EXPORT_OFFICER,
                "password": password,
                "totp": pyotp.TOTP(totp_secret).now(),
            },
        )
        if signed_in.status_code != 200:
            raise RuntimeError(f"sign-in failed: {signed_in.status_code} {signed_in.text[:200]}")
        csrf = signed_in.json()["csrf"]
        listed = client.get("/api/v1/cases", params={"category": EXPORT_CATEGORY, "limit": 1})
        listed.raise_for_status()
        ref = listed.json()["cases"][0]["ref"]
        time.sleep(0.5)
        baseline = rss_kib(pid)
        sampler = MemorySampler(pid)
        sampler.start()
        received = 0
        started = time.perf_counter()
        with client.stream(
            "POST", f"/api/v1/cases/{ref}/export", headers={"X-CSRF-Token": csrf}
        ) as answer:
            if answer.status_code != 200:
                raise RuntimeError(f"export failed: HTTP {answer.status_code}")
            for piece in answer.iter_raw():
                received += len(piece)
        elapsed = time.perf_counter() - started
        sampler.running = False
        sampler.join()
    if received < total * 4 // 3:
        raise RuntimeError(f"the export file has {received:,} bytes: short of its attachments")
    return {
        "seconds": elapsed,
        "mb_per_s": total / 1_000_000 / elapsed,
        "file_mb": received / 1_000_000,
        "growth_mb": (sampler.peak - baseline) / 1024,
    }


def run(megabytes: int, repeat: int, pdf_megabytes: int, export_megabytes: int) -> None:
    size = megabytes * 1_000_000
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch) / "data"
        environ = {
            **os.environ,
            "QUIETLINE_DATA_DIR": str(data_dir),
            "QUIETLINE_DEV": "1",
            "QUIETLINE_PASSWORD_ITERATIONS": "1",
            "QUIETLINE_PASSWORD_MEMORY_KIB": "1024",
            "QUIETLINE_ATTACHMENT_MAX_FILE_BYTES": str(
                max(size, pdf_megabytes * 1_100_000, MAX_FILE_BYTES)
            ),
            "QUIETLINE_ATTACHMENT_MAX_TOTAL_BYTES": str(
                max(size, pdf_megabytes * 1_100_000, export_megabytes * 1_000_000)
            ),
            "QUIETLINE_ATTACHMENT_CLEAN_MAX_BYTES": str(pdf_megabytes * 1_100_000),
            # The storage budget is counted (its cost is measured) but never reached here.
            "QUIETLINE_ATTACHMENT_BUDGET_HOUR_BYTES": str(1000 * 1_000_000_000),
            "QUIETLINE_ATTACHMENT_BUDGET_TOTAL_BYTES": str(1000 * 1_000_000_000),
            "QUIETLINE_ATTACHMENT_MIN_FREE_BYTES": "0",
        }
        cli = [sys.executable, "-m", "intake.cli", "--data-dir", str(data_dir)]
        demo = subprocess.run(
            [*cli, "demo"], env=environ, check=True, capture_output=True, text=True
        )
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
            if export_megabytes:
                password, totp_secret = demo_credentials(demo.stdout, EXPORT_OFFICER)
                exported = export_case(url, server.pid, export_megabytes, password, totp_secret)
                print(
                    f"export of a case holding {export_megabytes} MB of attachments: "
                    f"{exported['mb_per_s']:.1f} MB/s, {exported['seconds']:.2f} s, "
                    f"file {exported['file_mb']:.0f} MB, RSS growth {exported['growth_mb']:.1f} MB"
                )
        finally:
            server.terminate()
            server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=100, help="size of each upload in MB")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pdf-mb", type=int, default=50, help="size of the PDF upload (0: none)")
    parser.add_argument(
        "--export-mb", type=int, default=200, help="attachments of the exported case (0: none)"
    )
    args = parser.parse_args()
    run(args.mb, args.repeat, args.pdf_mb, args.export_mb)


if __name__ == "__main__":
    main()
