"""Retention at scale (issue 20): a run that deletes many cases deletes them in bounded
batches, fast enough for a large backlog, while reporters keep filing."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import col, select

from bench.bulk import add_cases
from bench.scale_data import add_entries, expire_cases
from intake.casework import retention
from intake.operations import audit_verify, maintenance
from intake.storage.models import AuditCheckpoint, AuditEvent, Case, CaseKey, Entry
from intake.web.app import create_app
from tests.support.instance import Instance, make_instance

CASES = 1_000
# 500 cases a second is the target on the benchmark's machine; a test on a shared machine
# allows a tenth of it. Deleting case by case, one transaction each, ran at 20 to 36 a second.
SECONDS = CASES / 50


@pytest.mark.slow
async def test_a_large_purge_runs_in_bounded_batches_while_reporters_file(
    seeded: Instance,
) -> None:
    runtime = seeded.runtime
    today = runtime.today()
    await add_cases(seeded.settings, CASES, today=today - timedelta(days=1))
    await add_entries(seeded.settings)
    assert await expire_cases(seeded.settings, CASES, today=today) == CASES
    app = create_app(seeded.settings, runtime=runtime)
    filed: list[float] = []

    async def reporter_files(stop: asyncio.Event) -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            while not stop.is_set():
                started = time.perf_counter()
                answer = await client.post(
                    "/api/v1/reports", json={"category": "financial", "body": "During a purge."}
                )
                assert answer.status_code == 201, answer.text
                filed.append(time.perf_counter() - started)

    async with app.router.lifespan_context(app):
        stop = asyncio.Event()
        filing = asyncio.create_task(reporter_files(stop))
        started = time.perf_counter()
        report = await retention.run(runtime)
        elapsed = time.perf_counter() - started
        stop.set()
        await filing

    assert len(report.purged) == CASES
    assert elapsed < SECONDS, f"{CASES} cases purged in {elapsed:.1f} s"
    # Reporters were answered throughout, none waiting for the whole run.
    assert len(filed) >= 3 and max(filed) < elapsed / 2, (len(filed), max(filed), elapsed)
    async with runtime.sessions() as session:
        purged = (
            await session.exec(select(func.count()).where(col(Case.purged_on).is_not(None)))
        ).one()
        left = (
            await session.exec(
                select(func.count())
                .select_from(Entry)
                .join(Case, col(Case.id) == Entry.case_id)
                .where(col(Case.purged_on).is_not(None))
            )
        ).one()
        keys = (
            await session.exec(
                select(func.count())
                .select_from(CaseKey)
                .join(Case, col(Case.id) == CaseKey.case_id)
                .where(col(Case.purged_on).is_not(None))
            )
        ).one()
        events = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "case.purged"))
        ).all()
        assert (await audit_verify.verify(session)).ok
    assert (purged, left, keys) == (CASES, 0, 0)
    # Each case still has its own audit event, with its own counts.
    assert len(events) == CASES
    assert not any('"keys":0' in event.detail or '"entries":0' in event.detail for event in events)


async def test_the_batch_bound_is_small() -> None:
    """One batch holds the write lock for its cases only: a few dozen, not the whole run."""
    assert 1 <= retention.PURGE_BATCH <= 100
    assert retention.PAUSE_BETWEEN_BATCHES > 0 and 0 < retention.BATCH_SECONDS <= 0.1


async def test_the_servers_own_retention_run_pauses_a_quarter_of_each_batch(
    seeded: Instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inside the server, reporters queue for the write lock in order and need no pause; the
    short one left is for another process's writer. A purge run alone pauses as long as each
    batch took."""
    runs: list[float] = []

    async def recorded(runtime: object, **options: float) -> retention.PurgeReport:
        runs.append(options.get("pause_share", retention.PAUSE_SHARE_ALONE))
        raise asyncio.CancelledError  # one run is enough

    monkeypatch.setattr(retention, "run", recorded)
    with pytest.raises(asyncio.CancelledError):
        await maintenance.retention_loop(seeded.runtime, first_delay=0)
    assert runs == [retention.PAUSE_SHARE_IN_SERVER]
    assert retention.PAUSE_SHARE_IN_SERVER < retention.PAUSE_SHARE_ALONE == 1.0


async def test_on_postgresql_a_run_inside_the_server_keeps_its_batches_whole(
    pg_database: str, tmp_path: Path
) -> None:
    """PostgreSQL locks rows, so a batch makes no reporter wait and is never shrunk. Sized by
    its time instead, as on SQLite, a batch inside `serve` counted its statements' waits
    behind the reporters' requests as its own cost, and shrank to one case a transaction."""
    made = await make_instance(tmp_path / "data", pg_database)
    try:
        runtime = made.runtime
        today = runtime.today()
        cases = 3 * retention.PURGE_BATCH
        await add_cases(made.settings, cases, today=today - timedelta(days=1))
        assert await expire_cases(made.settings, cases, today=today) == cases
        app = create_app(made.settings, runtime=runtime)
        async with app.router.lifespan_context(app), runtime.sessions() as session:
            before = (await session.exec(select(func.count()).select_from(AuditCheckpoint))).one()
            report = await retention.run(runtime, pause_share=retention.PAUSE_SHARE_IN_SERVER)
            after = (await session.exec(select(func.count()).select_from(AuditCheckpoint))).one()
        assert len(report.purged) == cases
        # One signed checkpoint closes each batch's transaction: three batches, not dozens.
        assert after - before == 3
    finally:
        await made.runtime.close()
