"""Mail delivery against a real SMTP server (aiosmtpd on loopback), on SQLite and PostgreSQL.

Promise 2 (docs/architecture.md): a notice carries no content, category, case reference or reporter
data. Promise 4: a mail server that is down delays notices; it loses none.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, update
from sqlmodel import col, select

from intake.mail import set_notify_mode
from intake.mail.compose import SUBJECT
from intake.mail.outbox import SENDABLE
from intake.mail.worker import MailWorker, claim_due
from intake.runtime import Runtime
from intake.storage import db
from intake.storage.models import Case, Outbox, Staff
from intake.web.app import create_app
from tests.support import casefactory, reports
from tests.support.instance import Instance
from tests.support.mail import FAST_MAIL, Received, SmtpServer

# Every receiving officer of both groups is told of every report and reporter message, whatever
# its routing (SECURITY.md, "Mail").
OFFICERS = [
    "alternate@example.org",
    "officer1@example.org",
    "officer2@example.org",
    "officer3@example.org",
]
MARKER = "Zebra-7f3a9c told Mr Quimby"
CATEGORY = "financial"
CATEGORY_LABEL = "Misuse of public money or contract-signing authority"
ALLOWED_HEADERS = {
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "auto-submitted",
    "content-type",
    "content-transfer-encoding",
    "mime-version",
}


def mail_runtime(made: Instance, **changes: Any) -> Runtime:
    return dataclasses.replace(made.runtime, settings=dataclasses.replace(made.settings, **changes))


@asynccontextmanager
async def running_app(
    made: Instance, **changes: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    """The app with its lifespan (and so its mail worker) running, fast mail settings."""
    runtime = mail_runtime(made, **{**FAST_MAIL, **changes})
    app = create_app(runtime.settings, runtime=runtime)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            yield client, runtime


async def file_report(client: httpx.AsyncClient, **changes: object) -> str:
    body = {"category": CATEGORY, "body": f"{MARKER} signed the contract twice.", **changes}
    return await reports.file_report(client, body)


async def eventually(check: Callable[[], Any], limit: float = 60) -> None:
    """Poll an async condition until it holds (bounded)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached in time")


async def outbox_rows(runtime: Runtime) -> list[Outbox]:
    async with runtime.sessions() as session:
        return list((await session.exec(select(Outbox))).all())


async def drained(runtime: Runtime) -> None:
    """Wait until nothing sendable is left in the outbox (every row was accepted)."""

    async def empty() -> bool:
        async with runtime.sessions() as session:
            left = await session.exec(
                select(func.count()).select_from(Outbox).where(col(Outbox.kind).in_(SENDABLE))
            )
            return left.one() == 0

    await eventually(empty)


async def case_refs(runtime: Runtime) -> list[str]:
    async with runtime.sessions() as session:
        return list((await session.exec(select(Case.ref))).all())


def assert_content_free(received: Received, forbidden: list[str]) -> None:
    # As sent and as read: a body in French is encoded for transport, so the raw bytes alone
    # would not show a leak.
    raw = received.data.decode("utf-8", errors="replace").lower() + "\n" + received.body.lower()
    for text in forbidden:
        for variant in {text, text.replace("-", ""), *text.split()}:
            if len(variant) >= 5:
                assert variant.lower() not in raw, f"{variant!r} leaked into an email"
    message = received.message
    assert message["Subject"] == SUBJECT
    assert {name.lower() for name in message.keys()} <= ALLOWED_HEADERS
    # A random Message-ID: nothing of a time or a process in it.
    assert re.fullmatch(r"<[0-9a-f]{32}@city\.example>", message["Message-ID"])
    assert received.rcpt_tos == (message["To"],)


async def test_new_report_notifies_every_receiving_officer_and_no_one_else(
    seeded: Instance, smtp_servers: Callable[..., SmtpServer]
) -> None:
    smtp = smtp_servers()
    async with running_app(seeded, **smtp.settings()) as (client, runtime):
        token = await file_report(client)
        await smtp.arrived(4)
        await drained(runtime)
        first = smtp.messages()
        assert sorted(m.rcpt_tos[0] for m in first) == OFFICERS
        refs = await case_refs(runtime)
        forbidden = [MARKER, CATEGORY, CATEGORY_LABEL, token, *refs]
        for received in first:
            assert_content_free(received, forbidden)
            # Staff's language is not stored: the notice says it in English, then in French.
            body = " ".join(received.body.split())
            english = body.index("Something in Quietline needs your attention.")
            assert english < body.index("Un élément de Quietline demande votre attention.")

        # A reporter's follow-up message: the same four people again, once each.
        answer = await client.post(
            "/api/v1/reports/messages", json={"token": token, "body": f"{MARKER} again"}
        )
        assert answer.status_code == 201
        await smtp.arrived(8)
        await drained(runtime)
        second = smtp.messages()[4:]
        assert sorted(m.rcpt_tos[0] for m in second) == OFFICERS

        # A report that involves the office is sealed to the alternate group only, but the same
        # four people are told: the mail system cannot tell it from a plain one.
        other = await file_report(client, involves_office=True)
        await smtp.arrived(12)
        await drained(runtime)
        everything = smtp.messages()
        assert sorted(m.rcpt_tos[0] for m in everything[8:]) == OFFICERS
        forbidden += [other, *await case_refs(runtime)]
        for received in everything:
            assert_content_free(received, forbidden)
    # Never the investigator, the admin, the recovery key holder, or a reporter.
    assert {m.rcpt_tos[0] for m in everything} == {*OFFICERS, "alternate@example.org"}


async def test_reports_are_taken_while_the_mail_server_is_down_and_notices_follow_once(
    seeded: Instance, smtp_servers: Callable[..., SmtpServer]
) -> None:
    smtp = smtp_servers()
    smtp.stop()
    async with running_app(seeded, **smtp.settings()) as (client, runtime):
        tokens = [await file_report(client) for _ in range(3)]
        answer = await client.post(
            "/api/v1/reports/messages", json={"token": tokens[0], "body": "one more thing"}
        )
        assert answer.status_code == 201

        async def every_row_failed() -> bool:
            rows = await outbox_rows(runtime)
            return bool(rows) and all(row.attempts >= 1 and row.last_error for row in rows)

        await eventually(every_row_failed)  # the worker tried, failed and kept every row
        pending = await outbox_rows(runtime)
        smtp.start()
        await smtp.arrived(len(pending))
        await drained(runtime)
    # Every pending notice went out exactly once. Pending notices for one person fold into
    # one (a notice being retried at the very moment of an event may not absorb it).
    holders = {row.staff_id for row in pending}
    assert len(holders) == 4 and len(pending) < 4 * 4
    async with runtime.sessions() as session:
        emails = dict((await session.exec(select(Staff.id, Staff.email))).all())
    expected = sorted(emails[row.staff_id] for row in pending)
    assert sorted(m.rcpt_tos[0] for m in smtp.messages()) == expected
    assert set(expected) == set(OFFICERS)


async def test_temporary_and_permanent_refusals_are_retried(
    sqlite_seeded: Instance, smtp_servers: Callable[..., SmtpServer]
) -> None:
    replies = {1: "451 4.3.0 Try again later", 2: "554 5.7.1 Not now"}
    smtp = smtp_servers(refuse=replies.get)
    async with running_app(sqlite_seeded, **smtp.settings()) as (client, runtime):
        await file_report(client)
        await smtp.arrived(4)
        await drained(runtime)
    assert smtp.data_commands == 4 + 2  # four notices, two refused once each
    assert sorted(m.rcpt_tos[0] for m in smtp.messages()) == OFFICERS


async def test_starttls_with_login(
    sqlite_seeded: Instance, smtp_servers: Callable[..., SmtpServer]
) -> None:
    smtp = smtp_servers(tls="starttls", users={"quietline": "mail-password-123"})
    async with running_app(sqlite_seeded, **smtp.settings()) as (client, runtime):
        await file_report(client)
        await smtp.arrived(4)
        await drained(runtime)
    received = smtp.messages()
    assert sorted(m.rcpt_tos[0] for m in received) == OFFICERS
    assert all(m.over_tls and m.authenticated_as == "quietline" for m in received)


async def test_implicit_tls(
    sqlite_seeded: Instance, smtp_servers: Callable[..., SmtpServer]
) -> None:
    smtp = smtp_servers(tls="tls")
    async with running_app(sqlite_seeded, **smtp.settings()) as (client, runtime):
        await file_report(client)
        await smtp.arrived(4)
        await drained(runtime)
    assert all(m.over_tls for m in smtp.messages())


async def test_an_unverifiable_certificate_delays_mail_and_loses_none(
    sqlite_seeded: Instance, smtp_servers: Callable[..., SmtpServer]
) -> None:
    smtp = smtp_servers(tls="starttls")
    async with running_app(sqlite_seeded, **smtp.settings(ca=False)) as (client, runtime):
        await file_report(client)

        async def refused_for_tls() -> bool:
            rows = await outbox_rows(runtime)
            return len(rows) == 4 and all(
                row.last_error == "SSLCertVerificationError" for row in rows
            )

        await eventually(refused_for_tls)
    assert smtp.messages() == []
    # The operator sets QUIETLINE_SMTP_CA_FILE and restarts: everything goes out, once.
    async with running_app(sqlite_seeded, **smtp.settings()) as (_, runtime):
        await smtp.arrived(4)
        await drained(runtime)
    assert sorted(m.rcpt_tos[0] for m in smtp.messages()) == OFFICERS


async def test_without_an_smtp_host_mail_is_written_as_private_files(
    sqlite_seeded: Instance,
) -> None:
    async with running_app(sqlite_seeded) as (client, runtime):
        token = await file_report(client)
        await drained(runtime)
    mail_dir = sqlite_seeded.settings.data_dir / "mail"
    files = sorted(mail_dir.glob("*.eml"))
    assert len(files) == 4
    assert oct(mail_dir.stat().st_mode & 0o777) == "0o700"
    refs = await case_refs(runtime)
    recipients = []
    for path in files:
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        received = Received(
            mail_from="", rcpt_tos=(), data=path.read_bytes(), authenticated_as=None, over_tls=False
        )
        recipients.append(received.message["To"])
        assert_content_free(
            dataclasses.replace(received, rcpt_tos=(received.message["To"],)),
            [MARKER, CATEGORY, CATEGORY_LABEL, token, *refs],
        )
    assert sorted(recipients) == OFFICERS


async def test_notices_wait_a_random_delay_and_a_burst_makes_one_email(seeded: Instance) -> None:
    runtime = mail_runtime(seeded, mail_delay_max=900)
    before = db.utcnow()
    for _ in range(3):
        await casefactory.file_report(runtime, category=CATEGORY, body=f"{MARKER} once more")
    after = db.utcnow()
    rows = await outbox_rows(runtime)
    # One pending notice per receiving officer absorbed the two later ones.
    assert len(rows) == 4
    assert all(row.kind == "notice" and row.body == "" for row in rows)
    assert all(before <= row.due_at <= after + timedelta(seconds=900) for row in rows)
    assert len({row.due_at for row in rows}) == 4  # each its own random moment
    # None is due yet, so a worker round sends nothing.
    assert await MailWorker(runtime).run_once() == 0


async def test_digest_choice_holds_notices_for_the_daily_digest(seeded: Instance) -> None:
    runtime = mail_runtime(seeded, mail_delay_max=0)
    async with db.transaction(runtime.sessions) as session:
        person = (
            await session.exec(select(Staff).where(Staff.email == "officer2@example.org"))
        ).one()
        await set_notify_mode(session, person, "digest")
    await casefactory.file_report(runtime, category=CATEGORY, body=MARKER)
    rows = await outbox_rows(runtime)
    kinds = {row.staff_id: row.kind for row in rows}
    assert sorted(kinds.values()) == ["held", "notice", "notice", "notice"]
    assert kinds[person.id] == "held"


async def test_a_claim_left_by_a_dead_worker_is_taken_again_when_its_lease_ends(
    seeded: Instance, smtp_servers: Callable[..., SmtpServer]
) -> None:
    smtp = smtp_servers()
    runtime = mail_runtime(seeded, **{**FAST_MAIL, **smtp.settings()})
    await casefactory.file_report(runtime, category=CATEGORY, body=MARKER)
    abandoned = await claim_due(runtime)  # a worker claims the rows, then dies
    assert len(abandoned) == 4
    assert await MailWorker(runtime).run_once() == 0  # other workers leave claimed rows alone
    assert smtp.messages() == []

    # The lease runs out (moved into the past here rather than waited for).
    async with db.transaction(runtime.sessions) as session:
        await session.exec(update(Outbox).values(claimed_until=db.utcnow() - timedelta(seconds=1)))
    assert await MailWorker(runtime).run_once() == 4
    await drained(runtime)
    assert sorted(m.rcpt_tos[0] for m in smtp.messages()) == OFFICERS
