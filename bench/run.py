"""The benchmark runner (``make bench``): Quietline against the bare baseline, same run.

Starts a real ``quietline serve`` on SQLite (and on a fresh PostgreSQL
database when one is reachable at 127.0.0.1:5432) and the baseline app, drives
them with the same load driver, interleaving repetitions so that a noisy
neighbour hurts every server alike, and prints a table of medians over the
repetitions, then the targets with PASS or FAIL.

    python -m bench.run [--reps 3] [--seconds 4] [--no-postgres] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench import directory as bench_directory
from bench import pg, procstat, staff
from bench.audit import checkpoint_cost
from bench.bulk import add_cases, clone_staff
from bench.driver import AnswerHook, Request, RequestFactory, drive
from bench.report import Check, Phase, Row, budget_table, table
from bench.seed import OFFICERS, SeededInstance, seed_instance
from bench.servers import Server, baseline_server, quietline_server

CATEGORY = "financial"
_SENTENCE = (
    "On the morning of the fourth the department approved a contract above its signing "
    "authority and split the invoices so that none reached the council's threshold. "
)
REPORT_CHARS = 2048
REPORT_BODY = (_SENTENCE * (REPORT_CHARS // len(_SENTENCE) + 1))[:REPORT_CHARS]
MAX_REQUESTS = 20_000  # per phase: the time budget ends a phase long before this
QUEUE_CASES = 100_000
CASE_MESSAGES = 50
CASE_VIEW_CATEGORY = "safety"  # the one case filed in this category is the one opened
SIGN_INS_IN_FLIGHT = 4
# Submissions, with or without a questionnaire's answers, must reach this share of the
# baseline's rate (the line the scaling work set, once every other change has landed).
SUBMISSION_RATIO = 0.55
EXPORT_MB = 200  # a case at the default upload limit
EXPORT_TARGET = f"export of a case holding {EXPORT_MB} MB of attachments: memory growth < 50 MB"


def report_request(index: int) -> Request:
    """A 2 KB report (2,048 characters), different for every request."""
    prefix = f"#{index:07d} "
    return Request(
        "POST",
        "/api/v1/reports",
        json={"category": CATEGORY, "body": prefix + REPORT_BODY[len(prefix) :]},
    )


# Every question the built-in questionnaire asks of a report about public money: the category's
# six and the four asked for every category (intake/casework/builtin_questions.py).
TEN_ANSWERS = {
    "department": "Public works",
    "contract": "PO-2026-0418",
    "amount": "48500.00",
    "vendor": "Northside Paving Ltd.",
    "approved_by": "director",
    "misuse": "split",
    "when": "2026-03",
    "before": "yes",
    "evidence": "The three invoices are in the shared finance folder, March 2026.",
    "others_know": ["coworkers"],
}


def answered_report_request(index: int) -> Request:
    """The same 2 KB report with answers to a ten-question questionnaire."""
    request = report_request(index)
    assert request.json is not None
    return Request("POST", "/api/v1/reports", json={**request.json, "answers": TEN_ANSWERS})


def status_request(tokens: list[str]) -> RequestFactory:
    def make(index: int) -> Request:
        return Request(
            "POST", "/api/v1/reports/status", json={"token": tokens[index % len(tokens)]}
        )

    return make


@dataclass
class Target:
    name: str
    server: Server
    seeded: SeededInstance | None = None  # None for the baseline
    tokens: list[str] = field(default_factory=list)

    @property
    def is_baseline(self) -> bool:
        return self.seeded is None

    def keep_token(self) -> AnswerHook:
        def hook(_index: int, answer: httpx.Response) -> None:
            self.tokens.append(answer.json()["token"])

        return hook


async def measure(
    target: Target,
    make_request: RequestFactory,
    *,
    concurrency: int,
    seconds: float,
    max_requests: int = MAX_REQUESTS,
    expect_status: int = 200,
    on_answer: AnswerHook | None = None,
    cookies: httpx.Cookies | None = None,
) -> Phase:
    cpu_before = target.server.cpu_seconds()
    driver_before, machine_before = time.process_time(), procstat.machine_busy_seconds()
    load = await drive(
        target.server.url,
        make_request,
        concurrency=concurrency,
        max_requests=max_requests,
        max_seconds=seconds,
        expect_status=expect_status,
        on_answer=on_answer,
        cookies=cookies,
    )
    cpu = target.server.cpu_seconds() - cpu_before
    return Phase(
        load=load,
        server_cpu=cpu,
        peak_rss_mib=target.server.peak_rss_mib(),
        driver_cpu=time.process_time() - driver_before,
        machine_cpu=procstat.machine_busy_seconds() - machine_before,
        cores=procstat.cores(),
    )


STAFF_TARGETS = (
    "staff sign-in off the event loop (submission p50 within 2x with 4 sign-ins in flight)",
    "queue first page with 100,000 cases < 50 ms median",
    "opening a case with 50 messages, with its audit event and signed checkpoint, < 20 ms median",
)


def witness_blocks(target: Target) -> int:
    """How many checkpoints the server's witness file holds."""
    if target.seeded is None:
        return 0
    path = Path(target.seeded.environ["QUIETLINE_DATA_DIR"]) / "audit-witness.txt"
    return path.read_text().count("-----BEGIN") if path.exists() else 0


def views_now(rows: dict[str, Row], target: Target) -> int:
    return rows[target.name].phases[-1].load.ok


async def witness_blocks_settled(target: Target, expected: int, limit: float = 2.0) -> int:
    """The witness file's checkpoints once the server's writer thread has caught up with the
    last views (it appends after the answer), or after ``limit`` seconds."""
    deadline = time.monotonic() + limit
    count = witness_blocks(target)
    for _ in range(int(limit / 0.05)):
        if count >= expected or time.monotonic() >= deadline:
            break
        await asyncio.sleep(0.05)
        count = witness_blocks(target)
    return count


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Runner:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.targets: list[Target] = []
        self.rows: list[Row] = []
        self.checks: list[Check] = []
        self.facts: dict[str, object] = {}

    # -- set-up -----------------------------------------------------------------------------

    async def start(self) -> None:
        logs = self.workdir / "logs"
        baseline = baseline_server(self.workdir / "baseline.db", logs)
        self.targets.append(Target("baseline", baseline.start()))
        log(f"baseline up on {baseline.url}")
        engines: list[tuple[str, str | None]] = [("sqlite", None)]
        if not self.args.no_postgres:
            if await pg.reachable():
                url = await pg.create_database()
                self.pg_url: str | None = url
                engines.append(("postgresql", url))
            else:
                log("PostgreSQL is not reachable at 127.0.0.1:5432: SQLite only")
        for engine, url in engines:
            data_dir = self.workdir / f"quietline-{engine}"
            seeded = await seed_instance(data_dir, url)
            server = quietline_server(f"quietline-{engine}", data_dir, seeded.environ, logs)
            self.targets.append(Target(f"quietline/{engine}", server.start(), seeded))
            log(f"quietline/{engine} up on {server.url}")

    async def stop(self) -> None:
        for target in self.targets:
            target.server.stop()
        url = getattr(self, "pg_url", None)
        if url:
            await pg.drop_database(url)

    @property
    def baseline(self) -> Target:
        return self.targets[0]

    @property
    def quietlines(self) -> list[Target]:
        return [target for target in self.targets if not target.is_baseline]

    # -- scenarios --------------------------------------------------------------------------

    async def warm_up(self) -> None:
        for target in self.targets:
            await measure(
                target,
                report_request,
                concurrency=4,
                seconds=2,
                max_requests=40,
                expect_status=201,
                on_answer=target.keep_token(),
            )

    async def interleaved(
        self,
        scenario: str,
        make_request: Callable[[Target], RequestFactory],
        *,
        concurrency: int,
        expect_status: int,
        keep_tokens: bool = False,
        targets: list[Target] | None = None,
    ) -> list[Row]:
        """Repetitions round-robin over the servers; one row per server."""
        chosen = targets or self.targets
        rows = {target.name: Row(scenario, target.name) for target in chosen}
        for rep in range(self.args.reps):
            for target in chosen:
                phase = await measure(
                    target,
                    make_request(target),
                    concurrency=concurrency,
                    seconds=self.args.seconds,
                    expect_status=expect_status,
                    on_answer=target.keep_token() if keep_tokens else None,
                )
                rows[target.name].phases.append(phase)
                log(
                    f"{scenario} rep {rep + 1} {target.name}: {phase.load.throughput:.0f}/s "
                    f"p50 {1000 * phase.load.median:.1f} ms errors {phase.load.error_count}"
                )
        baseline = rows.get(self.baseline.name)
        for row in rows.values():
            if row is not baseline:
                row.baseline = baseline
        self.rows.extend(rows.values())
        return list(rows.values())

    async def submissions(self, concurrency: int) -> list[Row]:
        return await self.interleaved(
            f"submit c={concurrency}",
            lambda target: report_request,
            concurrency=concurrency,
            expect_status=201,
            keep_tokens=True,
        )

    async def answered_submissions(self, concurrency: int) -> list[Row]:
        """Submissions with a ten-question questionnaire answered (checked, encrypted, the
        statistical choice counted), against the same baseline."""
        return await self.interleaved(
            f"submit+10 answers c={concurrency}",
            lambda target: answered_report_request,
            concurrency=concurrency,
            expect_status=201,
            keep_tokens=True,
        )

    async def lookups(self) -> list[Row]:
        return await self.interleaved(
            "status c=8",
            lambda target: status_request(list(target.tokens)),
            concurrency=8,
            expect_status=200,
        )

    async def verify_tokens(self, target: Target) -> tuple[int, int]:
        """Every token a submission returned must open its case: (opened, lost)."""
        tokens = list(target.tokens)
        result = await drive(
            target.server.url,
            status_request(tokens),
            concurrency=8,
            max_requests=len(tokens),
            max_seconds=300,
        )
        return result.ok, len(tokens) - result.ok

    # -- the whole run ----------------------------------------------------------------------

    async def run(self) -> None:
        await self.quietline_scenarios()
        if not self.args.skip_attachments:
            await self.attachment_uploads()
        await self.directory_cache()

    async def directory_cache(self) -> None:
        """The recipient directory's signatures are checked once, not on every report."""
        log("recipient directory: full verification against the cached read (bench.directory)")
        full, cached = await bench_directory.measure(members=60, repeat=100)
        self.facts["directory: full verification of 60 members (ms)"] = 1000 * full
        self.facts["directory: cached read per report (us)"] = 1e6 * cached
        self.checks.append(
            Check(
                bench_directory.TARGET,
                f"full {1000 * full:.1f} ms, cached {1e6 * cached:.1f} us "
                f"({100 * cached / full:.2f}%)",
                cached < 0.02 * full,
            )
        )

    async def quietline_scenarios(self) -> None:
        await self.warm_up()
        submit8 = await self.submissions(8)
        answered8 = await self.answered_submissions(8)
        lookups = await self.lookups()
        submit64 = await self.submissions(64)
        for target in self.quietlines:
            opened, lost = await self.verify_tokens(target)
            self.facts[f"{target.name} tokens checked"] = opened + lost
            self.facts[f"{target.name} lost reports"] = lost
            log(f"{target.name}: {opened} tokens open their case, {lost} lost")
        self.check_intake(submit8, lookups, submit64)
        self.check_answered(answered8)
        if self.args.skip_staff:
            return
        staff_targets = [t for t in self.quietlines if await staff.has_staff_api(t.server.url)]
        if not staff_targets:
            log("this build has no staff API: sign-in, queue and case view not measured")
            self.checks.extend(
                Check(target, "not measured: no staff API in this build", None)
                for target in STAFF_TARGETS
            )
            return
        await self.sign_in_interference(staff_targets)
        await self.staff_reads(staff_targets)

    async def attachment_uploads(self) -> None:
        """The attachment benchmark (bench/attachments.py) in its own server; its figures."""
        script = Path(__file__).with_name("attachments.py")
        target = "attachments: 100 MB upload >= 100 MB/s, memory growth < 50 MB"
        if not script.exists():
            self.checks.append(Check(target, "not measured: no attachment benchmark here", None))
            self.checks.append(Check(EXPORT_TARGET, "not measured: no attachment benchmark", None))
            return
        log("attachment uploads (bench.attachments, SQLite)")
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.attachments",
            "--mb",
            "100",
            "--repeat",
            str(self.args.reps),
            "--pdf-mb",
            "0",
            "--export-mb",
            str(EXPORT_MB),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            output, _ = await asyncio.wait_for(process.communicate(), timeout=600)
        except TimeoutError:
            process.kill()
            await process.wait()
            self.checks.append(Check(target, "timed out after 600 s", False))
            self.checks.append(Check(EXPORT_TARGET, "timed out after 600 s", False))
            return
        text = output.decode(errors="replace")
        self.attachment_output = text
        self.check_export(text)
        found = re.search(r"median: ([\d.]+) MB/s, max RSS growth ([\d.]+) MB", text)
        if process.returncode != 0 or found is None:
            self.checks.append(Check(target, f"failed: {text.strip()[-300:]}", False))
            return
        rate, growth = float(found.group(1)), float(found.group(2))
        self.facts["attachments: median MB/s (100 MB uploads)"] = rate
        self.facts["attachments: max RSS growth (MB)"] = growth
        self.checks.append(
            Check(
                target,
                f"median {rate:.1f} MB/s, max RSS growth {growth:.1f} MB "
                f"({self.args.reps} uploads of 100 MB)",
                rate >= 100 and growth < 50,
            )
        )

    def check_export(self, text: str) -> None:
        """The export row of bench/attachments.py: rate and the server's memory growth."""
        found = re.search(
            rf"export of a case holding {EXPORT_MB} MB of attachments: ([\d.]+) MB/s, "
            r"([\d.]+) s, file (\d+) MB, RSS growth ([\d.]+) MB",
            text,
        )
        if found is None:
            self.checks.append(Check(EXPORT_TARGET, f"failed: {text.strip()[-300:]}", False))
            return
        rate, growth = float(found.group(1)), float(found.group(4))
        self.facts[f"export of a {EXPORT_MB} MB case: MB/s of attachments"] = rate
        self.facts[f"export of a {EXPORT_MB} MB case: RSS growth (MB)"] = growth
        self.checks.append(
            Check(
                EXPORT_TARGET,
                f"{rate:.1f} MB/s ({found.group(2)} s, a {found.group(3)} MB file), "
                f"RSS growth {growth:.1f} MB",
                growth < 50,
            )
        )

    async def sign_in_interference(self, targets: list[Target]) -> None:
        """Submission latency at one client, idle and while 4 sign-ins are in flight."""
        per_phase = int(self.args.seconds * 15) + 20  # more accounts than can sign in
        accounts: dict[str, list[str]] = {}
        for target in targets:
            assert target.seeded is not None
            accounts[target.name] = await clone_staff(
                target.seeded.settings,
                like_email=OFFICERS[0][0],
                count=per_phase * self.args.reps,
            )
        rows: dict[tuple[str, str], Row] = {}
        for rep in range(self.args.reps):
            for target in targets:
                seeded = target.seeded
                assert seeded is not None
                idle = await measure(
                    target,
                    report_request,
                    concurrency=1,
                    seconds=self.args.seconds,
                    expect_status=201,
                )
                emails = accounts[target.name][rep * per_phase : (rep + 1) * per_phase]
                cpu_before = target.server.cpu_seconds()
                busy, logins = await asyncio.gather(
                    measure(
                        target,
                        report_request,
                        concurrency=1,
                        seconds=self.args.seconds,
                        expect_status=201,
                    ),
                    drive(
                        target.server.url,
                        staff.login_requests(
                            emails, seeded.password, seeded.totp_secrets[OFFICERS[0][0]]
                        ),
                        concurrency=SIGN_INS_IN_FLIGHT,
                        max_requests=len(emails),
                        max_seconds=self.args.seconds,
                    ),
                )
                cpu = target.server.cpu_seconds() - cpu_before
                for scenario, phase in (
                    ("submit c=1, idle", idle),
                    (f"submit c=1, {SIGN_INS_IN_FLIGHT} sign-ins", busy),
                    (
                        f"sign-in c={SIGN_INS_IN_FLIGHT} (Argon2id default)",
                        Phase(logins, cpu - busy.server_cpu, target.server.peak_rss_mib()),
                    ),
                ):
                    rows.setdefault((scenario, target.name), Row(scenario, target.name))
                    rows[(scenario, target.name)].phases.append(phase)
                log(
                    f"sign-in interference rep {rep + 1} {target.name}: submit p50 idle "
                    f"{1000 * idle.load.median:.1f} ms, with sign-ins {1000 * busy.load.median:.1f}"
                    f" ms; {logins.ok} sign-ins (p50 {1000 * logins.median:.0f} ms), "
                    f"{logins.error_count} failed"
                )
        self.rows.extend(rows.values())
        for target in targets:
            idle_row = rows[("submit c=1, idle", target.name)]
            busy_row = rows[(f"submit c=1, {SIGN_INS_IN_FLIGHT} sign-ins", target.name)]
            login_row = rows[(f"sign-in c={SIGN_INS_IN_FLIGHT} (Argon2id default)", target.name)]
            factor = busy_row.p50_ms / idle_row.p50_ms
            self.checks.append(
                Check(
                    f"submission p50 with {SIGN_INS_IN_FLIGHT} sign-ins in flight within 2x of "
                    f"idle ({target.name})",
                    f"{factor:.2f}x ({busy_row.p50_ms:.1f} ms vs {idle_row.p50_ms:.1f} ms; "
                    f"{login_row.requests} sign-ins, {login_row.errors} failed)",
                    factor <= 2 and login_row.errors == 0 and login_row.requests > 0,
                )
            )

    async def staff_reads(self, targets: list[Target]) -> None:
        """The queue's first page with 100,000 cases; opening a case with 50 messages."""
        refs: dict[str, str] = {}
        sessions: dict[str, httpx.Cookies] = {}
        today = datetime.now(UTC).date()
        for target in targets:
            seeded = target.seeded
            assert seeded is not None
            started = time.perf_counter()
            keys = await add_cases(seeded.settings, QUEUE_CASES, today=today)
            log(
                f"{target.name}: {QUEUE_CASES:,} cases and {keys:,} key-holder rows added in "
                f"{time.perf_counter() - started:.1f} s"
            )
            email = OFFICERS[0][0]
            cookies, csrf = await staff.sign_in(
                target.server.url, email, seeded.password, seeded.totp_secrets[email]
            )
            sessions[target.name] = cookies
            refs[target.name] = await self.case_with_messages(target, cookies, csrf)
        queue_rows = {t.name: Row("queue first page (100k cases)", t.name) for t in targets}
        view_rows = {
            t.name: Row(f"open case ({CASE_MESSAGES} messages) + audit + checkpoint", t.name)
            for t in targets
        }
        views = {t.name: 0 for t in targets}
        checkpointed = {t.name: 0 for t in targets}
        for _rep in range(self.args.reps):
            for target in targets:
                queue_rows[target.name].phases.append(
                    await measure(
                        target,
                        staff.get("/api/v1/cases"),
                        concurrency=1,
                        seconds=self.args.seconds,
                        cookies=sessions[target.name],
                    )
                )
                blocks_before = witness_blocks(target)
                view_rows[target.name].phases.append(
                    await measure(
                        target,
                        staff.get(f"/api/v1/cases/{refs[target.name]}"),
                        concurrency=1,
                        seconds=self.args.seconds,
                        cookies=sessions[target.name],
                    )
                )
                views[target.name] += view_rows[target.name].phases[-1].load.ok
                checkpointed[target.name] += (
                    await witness_blocks_settled(
                        target, blocks_before + views_now(view_rows, target)
                    )
                    - blocks_before
                )
                log(
                    f"staff reads {target.name}: queue p50 "
                    f"{1000 * queue_rows[target.name].phases[-1].load.median:.1f} ms, case view "
                    f"p50 {1000 * view_rows[target.name].phases[-1].load.median:.1f} ms"
                )
        self.rows.extend(queue_rows.values())
        self.rows.extend(view_rows.values())
        for target in targets:
            queue_row, view_row = queue_rows[target.name], view_rows[target.name]
            self.checks.append(
                Check(
                    f"queue first page with {QUEUE_CASES:,} cases < 50 ms median ({target.name})",
                    f"{queue_row.p50_ms:.1f} ms, {queue_row.errors} errors",
                    queue_row.p50_ms < 50 and queue_row.errors == 0,
                )
            )
            self.checks.append(
                Check(
                    f"opening a case with {CASE_MESSAGES} messages, with its audit event and "
                    f"signed checkpoint, < 20 ms median ({target.name})",
                    f"{view_row.p50_ms:.1f} ms, {view_row.errors} errors; "
                    f"{checkpointed[target.name]} checkpoints in the witness file for "
                    f"{views[target.name]} views",
                    view_row.p50_ms < 20
                    and view_row.errors == 0
                    and checkpointed[target.name] >= views[target.name],
                )
            )
            await self.checkpoint_cost(target)

    async def checkpoint_cost(self, target: Target) -> None:
        """An audit event with and without its checkpoint, timed in-process (bench/audit.py)."""
        assert target.seeded is not None
        cost = await checkpoint_cost(target.seeded.environ)
        self.facts[f"{target.name} audit event alone, p50 (ms)"] = round(cost.without_ms, 2)
        self.facts[f"{target.name} audit event with signed checkpoint, p50 (ms)"] = round(
            cost.with_ms, 2
        )
        self.facts[f"{target.name} cost of a checkpoint (ms)"] = round(cost.cost_ms, 2)
        log(
            f"{target.name}: audit event {cost.without_ms:.2f} ms, with checkpoint "
            f"{cost.with_ms:.2f} ms ({cost.checkpoints} written to the witness file)"
        )

    async def case_with_messages(self, target: Target, cookies: httpx.Cookies, csrf: str) -> str:
        """File a case through the API and exchange 50 messages on it; return its reference."""
        async with httpx.AsyncClient(
            base_url=target.server.url, cookies=cookies, timeout=60
        ) as client:
            filed = await client.post(
                "/api/v1/reports",
                json={"category": CASE_VIEW_CATEGORY, "body": REPORT_BODY},
            )
            filed.raise_for_status()
            token = filed.json()["token"]
            listed = await client.get(
                "/api/v1/cases", params={"category": CASE_VIEW_CATEGORY, "limit": 1}
            )
            listed.raise_for_status()
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

    def check_answered(self, answered8: list[Row]) -> None:
        for row in answered8:
            if row.baseline is None:
                continue
            self.checks.append(
                Check(
                    f"submission with ten answers c=8 ({row.server}) >= "
                    f"{SUBMISSION_RATIO:.0%} of baseline, "
                    "zero errors",
                    f"{row.ratio:.0%} ({row.throughput:.0f}/s vs {row.baseline.throughput:.0f}/s),"
                    f" {row.errors} errors",
                    row.ratio >= SUBMISSION_RATIO and row.errors == 0,
                )
            )

    def check_intake(self, submit8: list[Row], lookups: list[Row], submit64: list[Row]) -> None:
        for row in submit8:
            if row.baseline is None:
                continue
            self.checks.append(
                Check(
                    f"submission c=8 ({row.server}) >= {SUBMISSION_RATIO:.0%} of baseline, "
                    "zero errors",
                    f"{row.ratio:.0%} ({row.throughput:.0f}/s vs {row.baseline.throughput:.0f}/s),"
                    f" {row.errors} errors",
                    row.ratio >= SUBMISSION_RATIO and row.errors == 0,
                )
            )
        for row in submit64:
            if row.baseline is None:
                continue
            lost = self.facts.get(f"{row.server} lost reports")
            checked = self.facts.get(f"{row.server} tokens checked")
            self.checks.append(
                Check(
                    f"submission c=64 ({row.server}): zero errors, zero lost reports",
                    f"{row.errors} errors; {lost} of {checked} returned tokens lost",
                    row.errors == 0 and lost == 0,
                )
            )
        for row in lookups:
            if row.baseline is None:
                continue
            self.checks.append(
                Check(
                    f"status lookup ({row.server}) >= 60% of baseline read throughput",
                    f"{row.ratio:.0%} ({row.throughput:.0f}/s vs {row.baseline.throughput:.0f}/s)",
                    row.ratio >= 0.6,
                )
            )
        for target in self.quietlines:
            # Measured after the reporter-side load, before any sign-in: each Argon2id
            # derivation of a sign-in holds its own 64 MiB while it runs (see the sign-in rows).
            peak = max(
                (
                    row.peak_rss_mib
                    for row in submit8 + lookups + submit64
                    if row.server == target.name
                ),
                default=math.nan,
            )
            self.facts[f"{target.name} peak RSS after reporter load (MB)"] = round(peak, 1)
            self.checks.append(
                Check(
                    f"resident memory of one server process under load ({target.name}) < 120 MB",
                    f"peak {peak:.1f} MB (VmHWM after the submission and status runs)",
                    peak < 120,
                )
            )

    def print_results(self) -> None:
        print()
        print(table(self.rows))
        print()
        print("CPU a request on the whole machine (medians; the driver shares its cores):")
        print(budget_table(self.rows))
        print()
        for name, value in self.facts.items():
            print(f"{name}: {value}")
        if getattr(self, "attachment_output", ""):
            print()
            print("attachment uploads (python -m bench.attachments):")
            print(self.attachment_output.rstrip())
        print()
        for check in self.checks:
            print(check.line())
        if self.args.json:
            document = {
                "settings": {"reps": self.args.reps, "seconds": self.args.seconds},
                "rows": [row.as_dict() for row in self.rows],
                "facts": self.facts,
                "checks": [
                    {"target": c.target, "measured": c.measured, "passed": c.passed}
                    for c in self.checks
                ],
            }
            Path(self.args.json).write_text(json.dumps(document, indent=2))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--reps", type=int, default=3, help="repetitions per scenario (median)")
    parser.add_argument("--seconds", type=float, default=4.0, help="time budget of one phase")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument(
        "--skip-staff", action="store_true", help="no sign-in, queue or case-view benchmarks"
    )
    parser.add_argument(
        "--skip-attachments", action="store_true", help="no attachment upload benchmark"
    )
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    return parser.parse_args(argv)


async def main_async(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="quietline-bench-"))
    runner = Runner(args, workdir)
    try:
        await runner.start()
        await runner.run()
    finally:
        await runner.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            log(f"work directory kept: {workdir}")
    runner.print_results()
    return 0 if all(check.passed is not False for check in runner.checks) else 1


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
