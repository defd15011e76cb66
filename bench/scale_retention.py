"""Retention under load, for ``make bench-scale``: as ``serve`` runs it, and as the
``quietline purge`` command beside a running ``serve``, while four reporters keep filing."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

from bench import scale_data
from bench.driver import drive
from bench.run import report_request
from bench.scale_report import Putter
from bench.scale_tools import built_in_child, run_command, start_timed
from bench.seed import SeededInstance
from bench.servers import quietline_server

RETENTION_CASES = 10_000
RETENTION_LIMIT_SECONDS = 120  # a slower purge is stopped; its rate is what it deleted so far


async def in_serve(
    engine: str, cases: int, seeded: SeededInstance, put: Putter, logs: Path
) -> None:
    """Retention as ``serve`` runs it (a minute after start, in its own process), while four
    reporters file: the rate from the first deletion seen to the last, and submissions' p99
    meanwhile."""
    environ = {**seeded.environ, "QUIETLINE_PURGE_INTERVAL_HOURS": "24"}
    server = quietline_server(
        f"serve-retention-{engine}-{cases}",
        seeded.settings.data_dir,
        environ,
        logs,
    )
    start_timed(server)
    before = await scale_data.purged_cases(seeded.settings)
    target = before + min(RETENTION_CASES, cases // 2)
    latencies: list[float] = []
    errors, first, last, count = 0, None, None, before
    deadline = time.perf_counter() + 90 + RETENTION_LIMIT_SECONDS
    try:
        while count < target and time.perf_counter() < deadline:
            load = await drive(
                server.url,
                report_request,
                concurrency=4,
                max_requests=10_000,
                max_seconds=1,
                expect_status=201,
            )
            count = await scale_data.purged_cases(seeded.settings)
            now = time.perf_counter()
            if count > before:
                first = first or now - load.elapsed
                latencies += load.latencies
                errors += load.error_count
                last = now
    finally:
        server.stop()
    deleted = count - before
    put("retention: cases deleted", deleted)
    if first is not None and last is not None and last > first:
        put("retention: wall time", last - first)
        put("retention: cases deleted a second", deleted / (last - first))
    latencies.sort()
    p99 = latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan")
    put("submission p99 during retention", 1000 * p99)
    put("submission errors during retention", errors)


async def by_command(
    engine: str, cases: int, seeded: SeededInstance, put: Putter, workdir: Path
) -> None:
    """``quietline purge`` in its own process beside ``serve`` while reporters file (after
    the in-serve run, on as many cases made expired again)."""
    await built_in_child(seeded.environ, "--expire", str(min(RETENTION_CASES, cases // 2)))
    server = quietline_server(
        f"serve-cli-{engine}-{cases}",
        seeded.settings.data_dir,
        seeded.environ,
        workdir / "logs",
    )
    start_timed(server)
    try:
        await _purge_command(seeded, server.url, put, workdir)
    finally:
        server.stop()


async def _purge_command(seeded: SeededInstance, url: str, put: Putter, workdir: Path) -> None:
    """A purge run in its own process while one reporter after another files reports."""
    idle = await drive(
        url,
        report_request,
        concurrency=4,
        max_requests=10_000,
        max_seconds=3,
        expect_status=201,
    )
    put("submission p99, idle", 1000 * idle.p99)
    before = await scale_data.purged_cases(seeded.settings)
    # Its report names every case it deleted: to a file, so that no pipe fills up.
    report = workdir / "purge.out"
    with report.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "intake.cli",
            "purge",
            env={**os.environ, **seeded.environ},
            stdout=sink,
            stderr=asyncio.subprocess.STDOUT,
        )
    started = time.perf_counter()
    latencies: list[float] = []
    errors = 0
    while process.returncode is None:
        if time.perf_counter() - started > RETENTION_LIMIT_SECONDS:
            process.terminate()  # the batches done so far stay done
            await process.wait()
            break
        load = await drive(
            url,
            report_request,
            concurrency=4,
            max_requests=10_000,
            max_seconds=1,
            expect_status=201,
        )
        latencies += load.latencies
        errors += load.error_count
        try:
            await asyncio.wait_for(process.wait(), timeout=0.01)
        except TimeoutError:
            pass
    seconds = time.perf_counter() - started
    deleted = await scale_data.purged_cases(seeded.settings) - before
    if process.returncode != 0:
        output = report.read_text(errors="replace")
        print(f"purge stopped or failed after {seconds:.0f} s: {output[-300:]}", file=sys.stderr)
    put("purge command: cases deleted", deleted)
    put("purge command: wall time", seconds)
    # The command's own start and its scan of the candidates, timed by a dry run after.
    dry = run_command(["purge", "--dry-run"], seeded.environ)
    put("purge command: start and scan (dry run)", dry.seconds)
    net = max(seconds - dry.seconds, 1e-3)
    put("purge command: cases deleted a second", deleted / net)
    latencies.sort()
    p99 = latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan")
    put("submission p99 during the purge command", 1000 * p99)
    put("submission errors during the purge command", errors)
