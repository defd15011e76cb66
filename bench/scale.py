"""The scaling benchmark (``make bench-scale``): how each cost grows with the work.

For each engine and each size (10,000, 100,000 and 1,000,000 cases by default) it builds a
database with bulk inserts (``bench.bulk``, ``bench.scale_data``): cases with their key-holder
rows, a report on each and messages on one in ten, and as many audit events as cases, chained
with the instance's own audit key. Then, against a real ``quietline serve`` and the real
commands, it measures the figures of ``bench.scale_report.FIGURES`` and prints a table per size,
the targets PASS or FAIL, and writes JSON and one SVG chart per figure to ``--out``.

    python -m bench.scale [--sizes 10000,100000,1000000] [--engines sqlite,postgresql]
                          [--attachment-mb 5000] [--seconds 3] [--out bench-scale-results]

Not part of ``make test`` or CI: the 1,000,000-case build alone takes minutes here; run it
niced (``nice -n 15``) on a shared machine, and read its figures as noisy when the host is busy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench import directory as bench_directory
from bench import pg, scale_data, scale_retention, staff
from bench.driver import LoadResult, drive
from bench.run import CASE_MESSAGES, REPORT_BODY, report_request, status_request
from bench.scale_report import Putter, Results, write_results
from bench.scale_tools import built_in_child, peak_mib, reset_peak, run_command, start_timed
from bench.seed import OFFICERS, SeededInstance, seed_instance
from bench.servers import quietline_server

RETENTION_CASES = scale_retention.RETENTION_CASES
DIRECTORY_MEMBERS = 1_000
STATUS_TOKENS = 20


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def _timed_get(url: str, path: str, cookies: httpx.Cookies, seconds: float) -> LoadResult:
    return await drive(
        url,
        staff.get(path),
        concurrency=1,
        max_requests=5_000,
        max_seconds=seconds,
        cookies=cookies,
    )


async def _case_with_messages(url: str, cookies: httpx.Cookies, csrf: str) -> str:
    """A case filed through the API with 50 messages, both ways; its reference."""
    async with httpx.AsyncClient(base_url=url, cookies=cookies, timeout=60) as client:
        filed = await client.post("/api/v1/reports", json={"category": "safety", "body": "x" * 900})
        filed.raise_for_status()
        token = filed.json()["token"]
        listed = await client.get("/api/v1/cases", params={"category": "safety", "limit": 1})
        ref = str(listed.json()["cases"][0]["ref"])
        for index in range(CASE_MESSAGES):
            text = f"Message {index}: " + REPORT_BODY[:400]
            if index % 2:
                answer = await client.post(
                    f"/api/v1/cases/{ref}/messages",
                    json={"body": text},
                    headers={"X-CSRF-Token": csrf},
                )
            else:
                answer = await client.post(
                    "/api/v1/reports/messages", json={"token": token, "body": text}
                )
            answer.raise_for_status()
    return ref


async def _tokens(url: str, count: int) -> list[str]:
    tokens: list[str] = []
    result = await drive(
        url,
        report_request,
        concurrency=2,
        max_requests=count,
        max_seconds=60,
        expect_status=201,
        on_answer=lambda _i, answer: tokens.append(answer.json()["token"]),
    )
    assert result.error_count == 0, result.errors
    return tokens


class Scale:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.results = Results()

    async def instance(self, engine: str, name: str) -> tuple[SeededInstance, str | None]:
        url = await pg.create_database() if engine == "postgresql" else None
        seeded = await seed_instance(self.workdir / name, url)
        # Retention runs when the benchmark starts it (`quietline purge`, as from cron), not a
        # minute after `serve` starts, in the middle of other figures.
        seeded.environ["QUIETLINE_PURGE_INTERVAL_HOURS"] = "0"
        return seeded, url

    async def discard(self, seeded: SeededInstance, url: str | None) -> None:
        if url:
            await pg.drop_database(url)
        shutil.rmtree(seeded.settings.data_dir, ignore_errors=True)

    async def size(self, engine: str, cases: int) -> None:
        name = f"{engine}-{cases}"
        seeded, url = await self.instance(engine, name)
        try:
            await self.build(seeded, cases)
            await self.measure_server(engine, cases, seeded)
            self.measure_audit_verify(engine, cases, seeded)
        finally:
            await self.discard(seeded, url)

    async def build(self, seeded: SeededInstance, cases: int) -> None:
        """The bulk build, in a child process at the lowest priority but one (``nice -n 15``):
        on a shared machine it takes what others leave; the measurements then run at this
        process's own priority."""
        started = time.perf_counter()
        output = await built_in_child(
            seeded.environ,
            "--cases",
            str(cases),
            "--expire",
            str(min(RETENTION_CASES, cases // 2)),
            "--report-bytes",
            str(self.args.report_bytes),
        )
        log(f"{output.strip()} in {time.perf_counter() - started:.0f} s")

    async def measure_server(self, engine: str, cases: int, seeded: SeededInstance) -> None:
        put = self.results.putter(engine, cases)
        server = quietline_server(
            f"serve-{engine}-{cases}",
            seeded.settings.data_dir,
            seeded.environ,
            self.workdir / "logs",
        )
        put("start-up", start_timed(server))
        try:
            email = OFFICERS[0][0]
            cookies, csrf = await staff.sign_in(
                server.url, email, seeded.password, seeded.totp_secrets[email]
            )
            ref = await _case_with_messages(server.url, cookies, csrf)
            seconds = self.args.seconds
            first = await _timed_get(server.url, "/api/v1/cases", cookies, seconds)
            put("queue first page p50", 1000 * first.median)
            put("queue first page p99", 1000 * first.p99)
            for label, query in (
                ("stage", "stage=assessing"),
                ("category", "category=financial"),
                ("overdue", "overdue=1"),
            ):
                page = await _timed_get(server.url, f"/api/v1/cases?{query}", cookies, seconds)
                put(f"queue by {label} p50", 1000 * page.median)
                put(f"queue by {label} p99", 1000 * page.p99)
            view = await _timed_get(server.url, f"/api/v1/cases/{ref}", cookies, seconds)
            put("case with 50 messages p50", 1000 * view.median)
            tokens = await _tokens(server.url, STATUS_TOKENS)
            status = await drive(
                server.url,
                status_request(tokens),
                concurrency=1,
                max_requests=5_000,
                max_seconds=seconds,
            )
            put("status lookup p50", 1000 * status.median)
            await self.statistics(server.pid, server.url, cookies, put)
        finally:
            server.stop()
        logs = self.workdir / "logs"
        await scale_retention.in_serve(engine, cases, seeded, put, logs)
        await scale_retention.by_command(engine, cases, seeded, put, self.workdir)

    async def statistics(self, pid: int, url: str, cookies: httpx.Cookies, put: Putter) -> None:
        year = datetime.now(UTC).year - 1  # a whole year of cases
        before = reset_peak(pid)
        async with httpx.AsyncClient(base_url=url, cookies=cookies, timeout=600) as client:
            started = time.perf_counter()
            answer = await client.get("/api/v1/stats", params={"year": year})
            seconds = time.perf_counter() - started
        answer.raise_for_status()
        put("statistics of a year", seconds)
        put("statistics peak memory growth", max(0.0, peak_mib(pid) - before))

    def measure_audit_verify(self, engine: str, cases: int, seeded: SeededInstance) -> None:
        put = self.results.putter(engine, cases)
        run = run_command(["audit", "verify"], seeded.environ)
        if run.returncode != 0:
            log(f"audit verify failed: {run.output[-500:]}")
        events = cases  # and the seed's few: the rate is a lower bound
        put("audit verify wall time", run.seconds)
        put("audit verify events a second", events / run.seconds)
        put("audit verify peak memory", run.peak_rss_mib)

    async def backup_and_restore(self, engine: str) -> None:
        """Backup and restore of an instance holding ``--attachment-mb`` of attachments; the
        memory growth is against the same commands on the instance before the attachments."""
        seeded, url = await self.instance(engine, f"{engine}-backup")
        restore_url = await pg.create_database() if url else None
        try:
            await built_in_child(seeded.environ, "--cases", "1000", "--expire", "0")
            small = await self.backup_restore_once(seeded, restore_url, "small")
            started = time.perf_counter()
            output = await built_in_child(
                seeded.environ, "--attachment-mb", str(self.args.attachment_mb)
            )
            stored = int(output.split()[0])
            took = time.perf_counter() - started
            log(f"{engine}: {stored / 1e6:,.0f} MB of attachments in {took:.0f} s")
            large = await self.backup_restore_once(seeded, restore_url, "large")
            put = self.results.putter(engine, None)
            put("attachments (MB)", stored / 1e6)
            put("archive (MB)", large["backup"][2] / 1e6)
            for step in ("backup", "restore"):
                seconds, peak, _size = large[step]
                # The rate of the data held, not of the archive: PostgreSQL's archive holds the
                # attachments as hex text, twice their size, and would read twice as fast.
                put(f"{step} rate (MB/s)", stored / 1e6 / seconds)
                put(f"{step} peak memory", peak)
                put(f"{step} memory growth", peak - small[step][1])
        finally:
            if restore_url:
                await pg.drop_database(restore_url)
            await self.discard(seeded, url)

    async def backup_restore_once(
        self, seeded: SeededInstance, restore_url: str | None, label: str
    ) -> dict[str, tuple[float, float, int]]:
        archive = self.workdir / f"backup-{label}.tar"
        await settle_disk(postgresql=restore_url is not None)
        made = run_command(["backup", "--out", str(archive), "--plain"], seeded.environ)
        if made.returncode != 0:
            raise RuntimeError(f"backup failed: {made.output[-500:]}")
        size = archive.stat().st_size
        target = self.workdir / f"restored-{label}"
        environ = {**seeded.environ, "QUIETLINE_DATA_DIR": str(target)}
        if restore_url:
            environ["QUIETLINE_DATABASE_URL"] = restore_url
        force = ["--force"] if restore_url and label != "small" else []
        await settle_disk(postgresql=restore_url is not None)
        back = run_command(["restore", "--in", str(archive), *force], environ)
        if back.returncode != 0:
            raise RuntimeError(f"restore failed: {back.output[-500:]}")
        archive.unlink()
        shutil.rmtree(target, ignore_errors=True)
        log(
            f"{label}: backup {size / 1e6:,.0f} MB in {made.seconds:.1f} s "
            f"({made.peak_rss_mib:.0f} MB peak), restore {back.seconds:.1f} s "
            f"({back.peak_rss_mib:.0f} MB peak)"
        )
        return {
            "backup": (made.seconds, made.peak_rss_mib, size),
            "restore": (back.seconds, back.peak_rss_mib, size),
        }

    async def directory_verify(self, engine: str) -> None:
        """``quietline directory verify`` over a directory of a thousand entries."""
        url = await pg.create_database() if engine == "postgresql" else None
        data_dir = self.workdir / f"{engine}-directory"
        try:
            started = time.perf_counter()
            members = self.args.directory_members
            runtime, _root = await bench_directory.seed(data_dir, members, url)
            await runtime.close()
            log(f"{engine}: {members} directory members in {time.perf_counter() - started:.0f} s")
            run = run_command(["directory", "verify"], bench_directory.environ_of(data_dir, url))
            if run.returncode != 0:
                log(f"directory verify failed: {run.output[-500:]}")
            put = self.results.putter(engine, None)
            put("directory verify wall time", run.seconds)
            put("directory verify peak memory", run.peak_rss_mib)
        finally:
            if url:
                await pg.drop_database(url)
            shutil.rmtree(data_dir, ignore_errors=True)


async def settle_disk(*, postgresql: bool) -> None:
    """Start a timed step on a quiet disk: the writes of the step before it (building 5 GB of
    attachments, say) are flushed now, not in the middle of the step timed next. PostgreSQL
    otherwise checkpoints them whenever its log fills, and a restore would pay for the build."""
    if postgresql:
        await pg.checkpoint()
    await asyncio.to_thread(os.sync)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000", help="numbers of cases")
    parser.add_argument("--engines", default="sqlite,postgresql", help="sqlite, postgresql")
    parser.add_argument("--seconds", type=float, default=3.0, help="time budget of one phase")
    parser.add_argument(
        "--attachment-mb", type=int, default=5000, help="attachments for backup (0: skip)"
    )
    parser.add_argument("--skip-directory", action="store_true", help="no directory verify")
    parser.add_argument(
        "--directory-members", type=int, default=DIRECTORY_MEMBERS, help="for directory verify"
    )
    parser.add_argument(
        "--report-bytes",
        type=int,
        default=scale_data.REPORT_BYTES,
        help="ciphertext bytes of each bulk report (smaller: a quicker build, as many rows)",
    )
    parser.add_argument("--out", default="bench-scale-results", help="folder for JSON and SVG")
    parser.add_argument(
        "--merge", help="an earlier run's scale.json: its figures join this run's (other sizes)"
    )
    return parser.parse_args(argv)


async def main_async(args: argparse.Namespace) -> int:
    sizes = sorted(int(size) for size in args.sizes.split(",") if size.strip())
    engines = [engine.strip() for engine in args.engines.split(",") if engine.strip()]
    if "postgresql" in engines and not await pg.reachable():
        log("PostgreSQL is not reachable at 127.0.0.1:5432: SQLite only")
        engines.remove("postgresql")
    workdir = Path(tempfile.mkdtemp(prefix="quietline-scale-"))
    scale = Scale(args, workdir)
    try:
        for engine in engines:
            for cases in sizes:
                log(f"{engine}, {cases:,} cases")
                await scale.size(engine, cases)
            if args.attachment_mb:
                await scale.backup_and_restore(engine)
            if not args.skip_directory:
                await scale.directory_verify(engine)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.merge:
        earlier = json.loads(await asyncio.to_thread(Path(args.merge).read_text))
        for engine, per_size in earlier["by_size"].items():
            for size, figures in per_size.items():
                scale.results.by_size.setdefault(engine, {}).setdefault(int(size), figures)
                sizes.append(int(size))
        for engine, figures in earlier["once"].items():
            scale.results.once.setdefault(engine, figures)
        engines += [engine for engine in earlier["by_size"] if engine not in engines]
        sizes = sorted(set(sizes))
    passed = write_results(scale.results, sizes, engines, Path(args.out))
    return 0 if passed else 1


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
