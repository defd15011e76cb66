"""Retention: a concluded case past its period is crypto-shredded; a held case is untouched."""

from __future__ import annotations

import secrets
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import delete
from sqlmodel import select

from intake.casework import reporter, retention
from intake.errors import CaseDeleted
from intake.operations import audit_verify
from intake.storage import db
from intake.storage.models import AuditEvent, Case, Outbox, Staff
from intake.web.app import create_app
from tests.support.casefactory import (
    add_entry,
    attachment_rows,
    data_key_with,
    entries_of,
    file_report,
    keys_of,
)
from tests.support.casefactory import update_case as set_case
from tests.support.instance import Instance
from tests.support.live import bytes_written_under

OFFICER = "officer1@example.org"


async def _concluded_case(
    seeded: Instance, *, outcome: str, concluded_on: date, marker: str, **extra: object
) -> tuple[str, Case, list[bytes]]:
    token, case = await file_report(
        seeded.runtime,
        body=f"Report text {marker}",
        attachments=(("evidence.txt", f"Attached evidence {marker}".encode()),),
    )
    data_key = await data_key_with(seeded.runtime, case.id, seeded.staff_private[OFFICER])
    assert data_key is not None
    day = concluded_on - timedelta(days=30)
    await add_entry(
        seeded.runtime,
        case.id,
        data_key,
        kind="message",
        author="office",
        on=day,
        body=f"Office reply {marker}",
    )
    await add_entry(
        seeded.runtime,
        case.id,
        data_key,
        kind="note",
        author="office",
        on=day,
        body=f"Internal note {marker}",
    )
    case = await set_case(
        seeded.runtime,
        case.id,
        stage="concluded",
        outcome=outcome,
        received_on=concluded_on - timedelta(days=90),
        acknowledged_on=concluded_on - timedelta(days=88),
        concluded_on=concluded_on,
        first_reply_on=day,  # as the office's message records it (casework/workflow.py)
        **extra,
    )
    ciphertexts = [wrap.sealed for wrap in await keys_of(seeded.runtime, case.id)]
    ciphertexts += [entry.body for entry in await entries_of(seeded.runtime, case.id)]
    files, chunks = await attachment_rows(seeded.runtime, case.id)
    assert len(files) == 1 and chunks >= 1
    ciphertexts += [files[0].name, files[0].header]
    assert case.reporter_wrap is not None
    ciphertexts.append(case.reporter_wrap)
    return token, case, ciphertexts


async def test_purge_shreds_a_case_past_retention_and_spares_a_held_one(
    seeded: Instance, database_url: str | None
) -> None:
    runtime = seeded.runtime
    today = runtime.today()
    long_ago = today - timedelta(days=400)
    marker = secrets.token_hex(8)
    token, doomed, doomed_blobs = await _concluded_case(
        seeded,
        outcome="no_action",
        concluded_on=long_ago,
        marker=marker,
        deletion_notice_on=today - timedelta(days=60),
    )
    held_token, held, held_blobs = await _concluded_case(
        seeded,
        outcome="no_action",
        concluded_on=long_ago,
        marker=marker,
        deletion_notice_on=today - timedelta(days=60),
        legal_hold=True,
    )
    recent_token, recent, _ = await _concluded_case(
        seeded, outcome="substantiated", concluded_on=today - timedelta(days=20), marker=marker
    )
    # Assigned to an officer and linked to another case: a stub keeps neither.
    async with runtime.sessions() as session:
        officer = (await session.exec(select(Staff).where(Staff.email == OFFICER))).one()
    await set_case(runtime, doomed.id, assignee_id=officer.id, linked_case_id=recent.id)
    # Before: the recovery key opens the case that is about to go.
    assert await data_key_with(runtime, doomed.id, seeded.recovery_private, recovery=True)

    report = await retention.run(runtime)

    assert report.purged == [doomed.ref]
    assert report.held == [held.ref]
    assert recent.ref not in report.noticed + report.purged

    # No key of anyone opens it any more: every wrap and every ciphertext is gone.
    assert await keys_of(runtime, doomed.id) == []
    assert await entries_of(runtime, doomed.id) == []
    assert await attachment_rows(runtime, doomed.id) == ([], 0)  # its files are gone
    for private in [*seeded.staff_private.values(), seeded.recovery_private]:
        assert await data_key_with(runtime, doomed.id, private) is None
        assert await data_key_with(runtime, doomed.id, private, recovery=True) is None
    async with runtime.sessions() as session:
        stub = (await session.exec(select(Case).where(Case.id == doomed.id))).one()
        events = (
            await session.exec(select(AuditEvent).where(AuditEvent.case_ref == doomed.ref))
        ).all()
        assert (await audit_verify.verify(session)).ok
    assert stub.reporter_wrap is None and stub.salt == b""
    assert stub.exclusions is None  # the sealed list of excluded people goes with the rest
    assert stub.assignee_id is None and stub.linked_case_id is None and stub.next_seq == 1
    assert (stub.category, stub.kind, stub.outcome) == ("financial", "report", "no_action")
    assert stub.received_on == doomed.received_on and stub.concluded_on == long_ago
    assert stub.first_reply_on == long_ago - timedelta(days=30)
    assert stub.purged_on == today
    assert [event.action for event in events] == ["case.purged"]
    assert marker not in events[0].detail

    # The reporter is told plainly that the case is closed and deleted, on page and API.
    with pytest.raises(CaseDeleted, match="closed and its records have been deleted"):
        await reporter.status_by_token(runtime, token)
    app = create_app(seeded.settings, runtime=runtime)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client,
    ):
        answer = await client.post("/api/v1/reports/status", json={"token": token})
        assert answer.status_code == 410
        assert "deleted" in answer.json()["error"]
        page = await client.post("/status", data={"token": token})
        assert page.status_code == 410 and "records have been deleted" in page.text
        sent = await client.post("/api/v1/reports/messages", json={"token": token, "body": "hi"})
        assert sent.status_code == 410

    # The held case and the recent one are whole and readable.
    for kept_token, kept in ((held_token, held), (recent_token, recent)):
        assert len(await entries_of(runtime, kept.id)) == 3
        assert len((await attachment_rows(runtime, kept.id))[0]) == 1
        assert await data_key_with(runtime, kept.id, seeded.recovery_private, recovery=True)
        status = await reporter.status_by_token(runtime, kept_token)
        assert status.messages[0].body == f"Office reply {marker}"

    if database_url is None:
        # SQLite: the destroyed ciphertexts are in no file of the data directory, WAL included.
        stored = bytes_written_under(seeded.settings.data_dir)
        for blob in doomed_blobs:
            assert blob not in stored
        assert held_blobs[0] in stored


async def test_key_holders_are_told_before_deletion(seeded: Instance) -> None:
    runtime = seeded.runtime
    today = runtime.today()
    notice_days = runtime.settings.retention_notice_days
    # Concluded just long enough ago that the two-month period ends within the notice window.
    concluded = today - timedelta(days=62) + timedelta(days=notice_days // 2)
    _, case, _ = await _concluded_case(
        seeded, outcome="no_action", concluded_on=concluded, marker="notice"
    )
    async with db.transaction(runtime.sessions) as session:  # earlier notices went out
        await session.exec(delete(Outbox))  # type: ignore[call-overload]
    first = await retention.run(runtime)
    assert first.noticed == [case.ref] and first.purged == []
    # Each key holder gets the outbox's content-free notice, and no one else.
    holders = {key.staff_id for key in await keys_of(runtime, case.id) if key.staff_id}
    async with runtime.sessions() as session:
        queued = (await session.exec(select(Outbox))).all()
    assert len(holders) == 3
    assert sorted(row.staff_id for row in queued) == sorted(holders)
    assert all(row.body == "" for row in queued)
    async with runtime.sessions() as session:
        stored = (await session.exec(select(Case).where(Case.id == case.id))).one()
    assert stored.deletion_notice_on == today
    # A later run on the day retention ends, but before the notice period has run out,
    # still keeps it: key holders always get the full notice.
    policy = retention.RetentionPolicy.from_settings(runtime.settings)
    until = policy.retain_until(stored)
    assert until is not None and until < today + timedelta(days=notice_days)
    second = await retention.run(runtime, today=until)
    assert second.purged == [] and second.waiting == [(case.ref, today + timedelta(notice_days))]
    third = await retention.run(runtime, today=today + timedelta(days=notice_days))
    assert third.purged == [case.ref]


async def test_dry_run_changes_nothing(sqlite_seeded: Instance) -> None:
    runtime = sqlite_seeded.runtime
    today = runtime.today()
    _, case, _ = await _concluded_case(
        sqlite_seeded,
        outcome="referred",
        concluded_on=today - timedelta(days=900),
        marker="dry",
    )
    report = await retention.run(runtime, dry_run=True)
    assert report.noticed == [case.ref] and report.purged == []
    assert report.waiting and report.waiting[0][0] == case.ref
    assert len(await entries_of(runtime, case.id)) == 3
    async with runtime.sessions() as session:
        stored = (await session.exec(select(Case).where(Case.id == case.id))).one()
    assert stored.deletion_notice_on is None and stored.purged_on is None
    assert await data_key_with(runtime, case.id, sqlite_seeded.recovery_private, recovery=True)
