"""Delivering the outbox: claim due rows, send, delete on acceptance, back off on failure.

Claiming is one short write transaction: due rows are selected with
``FOR UPDATE SKIP LOCKED`` (PostgreSQL; on SQLite the write transaction holds
the database, so one worker at a time claims) and given a lease
(``claimed_until``). Sending happens outside any transaction; a row is deleted
only after the server accepted its message. Any failure, of any kind, gives
the row back with a later ``due_at`` (exponential backoff with jitter, capped).

Delivery is at-least-once. If a process dies after the server accepted a
message but before its row is deleted, the lease runs out and another worker
sends it again: the recipient may get a duplicate (with the same random
Message-ID, which mail clients use to fold duplicates), but never nothing.
Exactly-once across a crash would need the mail server to take part in our
transaction, which SMTP cannot do. With no crash, each row goes out once:
a claimed row is invisible to other workers until its lease ends, and the
lease (``LEASE``) is far longer than a batch can take (``BATCH`` messages,
each bounded by ``QUIETLINE_SMTP_TIMEOUT``).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select

from intake.accounts import organisation
from intake.mail import digest
from intake.mail.compose import SUBJECT, WITNESS_SUBJECT, build_message, footer, notice_body
from intake.mail.outbox import NOTICE, SENDABLE, WITNESS, unclaimed
from intake.mail.transport import Transport, describe_failure, failure_code, transport_for
from intake.runtime import Runtime
from intake.storage import db
from intake.storage.db import utcnow
from intake.storage.models import Outbox, Staff

logger = logging.getLogger("quietline.mail")

BATCH = 10
LEASE = timedelta(minutes=10)
_random = secrets.SystemRandom()


@dataclass(frozen=True)
class Claimed:
    id: str
    to: str | None  # None: the person was disabled meanwhile; the row is dropped
    kind: str
    body: str
    message_id: str
    attempts: int


def backoff(runtime: Runtime, attempts: int) -> timedelta:
    """base * 2^(attempts-1), capped, with ±20% jitter so workers do not retry in step."""
    settings = runtime.settings
    delay = min(
        settings.mail_retry_max_seconds,
        settings.mail_retry_base_seconds * 2 ** min(max(attempts - 1, 0), 30),
    )
    return timedelta(seconds=delay * _random.uniform(0.8, 1.2))


def _due(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """Rows that may leave now and that no live worker holds."""
    return (
        col(Outbox.kind).in_(SENDABLE),
        col(Outbox.due_at) <= now,
        unclaimed(now),
    )


async def claim_due(runtime: Runtime, *, limit: int = BATCH) -> list[Claimed]:
    """Take up to ``limit`` due rows for this worker, in one write transaction."""
    now = utcnow()
    async with runtime.sessions() as session:  # a cheap read first: most polls find nothing
        if (await session.exec(select(Outbox.id).where(*_due(now)).limit(1))).first() is None:
            return []
    async with db.transaction(runtime.sessions) as session:
        rows = list(
            (
                await session.exec(
                    select(Outbox)
                    .where(*_due(now))
                    .order_by(col(Outbox.due_at))
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            ).all()
        )
        if not rows:
            return []
        people = await session.exec(
            select(Staff).where(
                col(Staff.id).in_({row.staff_id for row in rows if row.staff_id is not None})
            )
        )
        addresses = {person.id: person.email for person in people.all() if person.active}
        claimed = []
        for row in rows:
            row.claimed_until = now + LEASE
            row.attempts += 1
            session.add(row)
            claimed.append(
                Claimed(
                    id=row.id,
                    to=row.to_address if row.staff_id is None else addresses.get(row.staff_id),
                    kind=row.kind,
                    body=row.body,
                    message_id=row.message_id,
                    attempts=row.attempts,
                )
            )
    return claimed


async def _mark_sent(runtime: Runtime, row_id: str) -> None:
    async with db.transaction(runtime.sessions) as session:
        await session.exec(delete(Outbox).where(col(Outbox.id) == row_id))  # type: ignore[call-overload]


async def _mark_failed(runtime: Runtime, item: Claimed, code: str) -> None:
    async with db.transaction(runtime.sessions) as session:
        await session.exec(
            update(Outbox)  # type: ignore[call-overload]
            .where(col(Outbox.id) == item.id)
            .values(
                claimed_until=None,
                due_at=utcnow() + backoff(runtime, item.attempts),
                last_error=code[:200],
            )
        )


TransportFactory = Callable[[], Transport]


async def deliver(
    runtime: Runtime, claimed: list[Claimed], transport: TransportFactory | None = None
) -> int:
    """Send claimed rows over one connection; returns how many the server accepted."""
    settings = runtime.settings
    factory = transport or (lambda: transport_for(settings))
    sent = 0
    pending = list(claimed)
    for item in [item for item in pending if item.to is None]:
        await _mark_sent(runtime, item.id)  # nobody to send to any more
        pending.remove(item)
    if not pending:
        return 0
    identity = await organisation.current(runtime)
    signature = footer(
        [identity.name_en, identity.name_fr], identity.web_address or identity.onion_url
    )
    failure: BaseException | None = None
    try:
        async with factory() as connection:
            while pending:
                item = pending[0]
                assert item.to is not None
                message = build_message(
                    mail_from=settings.mail_from,
                    to=item.to,
                    body=item.body if item.kind != NOTICE else notice_body(),
                    message_id=item.message_id,
                    subject=WITNESS_SUBJECT if item.kind == WITNESS else SUBJECT,
                    signature=signature,
                )
                try:
                    await connection.send(message)
                except Exception as exc:  # any failure: retry later, never lose
                    pending.pop(0)
                    await _retry_later(runtime, item, exc)
                    continue
                pending.pop(0)
                await _mark_sent(runtime, item.id)
                sent += 1
    except Exception as exc:  # connecting (or closing) failed
        failure = exc
    if failure is not None:
        for item in pending:
            await _retry_later(runtime, item, failure)
    return sent


async def _retry_later(runtime: Runtime, item: Claimed, exc: BaseException) -> None:
    logger.warning(
        "mail not delivered (attempt %d), will retry: %s",
        item.attempts,
        describe_failure(exc, runtime.settings),
    )
    await _mark_failed(runtime, item, failure_code(exc))


class MailWorker:
    """The outbox worker: daily digests, then due mail, then a nap of one poll interval."""

    def __init__(self, runtime: Runtime, transport: TransportFactory | None = None) -> None:
        self.runtime = runtime
        self.transport = transport
        self._digest_done_on: object = None
        self.stopping = asyncio.Event()

    async def queue_digests_if_due(self) -> int | None:
        settings = self.runtime.settings
        local_now = datetime.now(ZoneInfo(settings.timezone))
        today = local_now.date()
        if local_now.hour < settings.mail_digest_hour or self._digest_done_on == today:
            return None
        # The counts are read first, on their own: inside the write transaction their read over
        # every case key would hold the lock (and, on SQLite, the event loop) all along.
        async with self.runtime.sessions() as reading:
            if (await digest.queued_on(reading) or date.min) >= today:
                self._digest_done_on = today
                return None
            counts = await digest.deadline_counts(reading, today)
        try:
            async with db.transaction(self.runtime.sessions) as session:
                queued = await digest.queue_daily_digests(
                    session, self.runtime, today, counts=counts
                )
        except IntegrityError:  # another process queued today's digests at the same moment
            return None
        self._digest_done_on = today
        return queued

    async def run_once(self) -> int:
        """One round; returns how many rows it handled (0: nothing was due)."""
        await self.queue_digests_if_due()
        claimed = await claim_due(self.runtime)
        if claimed:
            await deliver(self.runtime, claimed, self.transport)
        return len(claimed)

    async def run(self) -> None:
        """Until ``stop()``: a failing round (database away) is logged and retried."""
        while not self.stopping.is_set():
            try:
                handled = await self.run_once()
            except (OperationalError, OSError) as exc:
                logger.warning("mail worker: database unavailable (%s)", type(exc).__name__)
                handled = 0
            except Exception as exc:
                logger.error("mail worker: unexpected %s", type(exc).__name__)
                handled = 0
            if handled:
                continue
            try:
                await asyncio.wait_for(
                    self.stopping.wait(), timeout=self.runtime.settings.mail_poll_seconds
                )
            except TimeoutError:
                pass

    def stop(self) -> None:
        self.stopping.set()


class BackgroundWorker:
    """A MailWorker running as a task of the web app's event loop."""

    def __init__(self, runtime: Runtime) -> None:
        self.worker = MailWorker(runtime)
        self.task = asyncio.create_task(self.worker.run(), name="quietline-mail")

    async def stop(self, grace: float = 10.0) -> None:
        """Let the current round finish (bounded), then cancel: a row left claimed is
        picked up again when its lease ends."""
        self.worker.stop()
        try:
            await asyncio.wait_for(asyncio.shield(self.task), timeout=grace)
        except TimeoutError:
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                pass
