"""Small measuring tools of ``make bench-scale``: a command's wall time and peak memory, a
server's start-up time, resetting and reading a process's peak memory."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import procstat
from bench.servers import Server


@dataclass(frozen=True)
class CommandRun:
    seconds: float
    peak_rss_mib: float  # the command's highest resident set size, sampled
    returncode: int
    output: str


def run_command(
    args: list[str], environ: dict[str, str], *, stdin: bytes | None = None
) -> CommandRun:
    """Run ``quietline ARGS`` to its end; time it and sample its peak memory (``VmHWM``) every
    20 ms. (``wait4``'s ``ru_maxrss`` would not do: a child forked from this large process
    starts with this process's resident size as its high-water mark.)"""
    command = [sys.executable, "-m", "intake.cli", *args]
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        env={**os.environ, **environ},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert process.stdin is not None and process.stdout is not None
    if stdin:
        process.stdin.write(stdin)
    process.stdin.close()
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.append(process.stdout.read()))  # type: ignore[union-attr]
    reader.start()
    peak = 0.0
    while process.poll() is None:
        try:
            peak = max(peak, procstat.peak_rss_mib(process.pid))
        except (OSError, KeyError):
            pass  # between the fork and the exec, or just exited
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    reader.join()
    return CommandRun(seconds, peak, process.returncode, b"".join(chunks).decode(errors="replace"))


def start_timed(server: Server, *, limit: float = 120.0) -> float:
    """Start ``server``; the seconds from its process start to its first answered request."""
    log = server.log_dir / f"{server.name}.out"
    server.log_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    server.process = subprocess.Popen(
        server.command, env=server.environ, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    while time.perf_counter() - started < limit:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited early; see {log}")
        try:
            httpx.get(server.url + "/", timeout=1)
            return time.perf_counter() - started
        except httpx.TransportError:
            time.sleep(0.01)
    raise RuntimeError(f"{server.name} did not answer within {limit:.0f} s")


def reset_peak(pid: int) -> float:
    """Reset the process's peak resident size to its current one (Linux ``clear_refs`` 5);
    returns the current resident size in MiB."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        pass  # then VmHWM keeps the peak since start: the growth read is an upper bound
    return procstat.rss_mib(pid)


def peak_mib(pid: int) -> float:
    return procstat.peak_rss_mib(pid)


async def built_in_child(environ: dict[str, str], *args: str) -> str:
    """Run ``python -m bench.scale_data ARGS`` under ``nice -n 15``; its output."""
    process = await asyncio.create_subprocess_exec(
        "nice",
        "-n",
        "15",
        sys.executable,
        "-m",
        "bench.scale_data",
        "--environ",
        json.dumps(environ),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    text = output.decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"the build failed: {text[-800:]}")
    return text
