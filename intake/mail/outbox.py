"""Writing to the outbox, inside the transaction of the event that causes the email.

A notice goes to staff, never to the recovery key or a reporter (Quietline has
no reporter address). What a reporter does (a new report, a message) notifies
the same people whatever the routing: every active officer of every receiving
group, and the case's other holders (:func:`reporter_audience`), so the
outbox never tells a report that excludes someone, or one about the office,
from a plain one. Staff-side events notify the case's key holders.
No creation time is stored: a row keeps only the randomly delayed moment it
may leave (up to ``QUIETLINE_MAIL_DELAY_MAX`` seconds after the event). A
pending notice for the same person absorbs a new one, so a burst of events
gives one email.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import bindparam, delete, insert, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.config import Settings
from intake.errors import InvalidInput
from intake.i18n import N_
from intake.mail.compose import new_message_id
from intake.runtime import Runtime
from intake.storage.db import utcnow
from intake.storage.models import CaseKey, Outbox, Staff

NOTIFY_MODES = ("immediate", "digest")
NOTICE = "notice"  # leaves on its own after the random delay
HELD = "held"  # waits for the daily digest (staff who chose the digest)
DIGEST = "digest"
WITNESS = "witness"  # an audit witness's daily checkpoint, to an address, not to staff
SENDABLE = (NOTICE, DIGEST, WITNESS)

_random = secrets.SystemRandom()


def random_due(settings: Settings, now: datetime | None = None) -> datetime:
    """When a notice may leave: now plus a uniform random delay up to the maximum."""
    now = now or utcnow()
    if settings.mail_delay_max <= 0:
        return now
    return now + timedelta(seconds=_random.uniform(0, settings.mail_delay_max))


def unclaimed(now: datetime) -> ColumnElement[bool]:
    """Rows no worker holds: never claimed, or whose claim ran out (the worker died)."""
    return or_(col(Outbox.claimed_until).is_(None), col(Outbox.claimed_until) < now)


class Notifiable(Protocol):
    """Someone a notice can go to: a :class:`Staff` row, or a case's key holder as routing
    read it."""

    @property
    def id(self) -> str: ...

    @property
    def notify_mode(self) -> str: ...


# Every report and message runs these two statements, so they are Core (the ORM's unit of work
# cost more than the rest of queueing).
_OUTBOX = Outbox.__table__  # type: ignore[attr-defined]
_PENDING = (
    sa_select(_OUTBOX.c.staff_id, _OUTBOX.c.kind)
    .where(_OUTBOX.c.staff_id.in_(bindparam("people", expanding=True)))
    .where(_OUTBOX.c.kind.in_((NOTICE, HELD)))
    .where(or_(_OUTBOX.c.claimed_until.is_(None), _OUTBOX.c.claimed_until < bindparam("now")))
    .order_by(_OUTBOX.c.id)
    .with_for_update()
)


async def queue_notices(
    session: AsyncSession, settings: Settings, people: Sequence[Notifiable]
) -> int:
    """Queue a notice to each person unless a pending one absorbs it; returns rows added.

    The pending rows are locked (``FOR UPDATE`` on PostgreSQL; SQLite's write
    transaction holds the whole database), so no worker can send one between
    this check and the commit of the event: the email that leaves always
    covers this event.
    """
    if not people:
        return 0
    now = utcnow()
    await session.flush()  # a person added in this transaction must exist before their notice
    connection = await session.connection()
    result = await connection.execute(
        _PENDING, {"people": [person.id for person in people], "now": now}
    )
    pending = {(row.staff_id, row.kind) for row in result}
    rows = []
    for person in people:
        kind = HELD if person.notify_mode == "digest" else NOTICE
        if (person.id, kind) in pending:
            continue
        pending.add((person.id, kind))
        rows.append(
            {
                "staff_id": person.id,
                "kind": kind,
                "message_id": new_message_id(settings.mail_from),
                "due_at": random_due(settings, now),
            }
        )
    if rows:
        await connection.execute(insert(_OUTBOX), rows)
    return len(rows)


def queue_witness_mail(
    session: AsyncSession, settings: Settings, addresses: Sequence[str], body: str
) -> int:
    """Queue ``body`` (an audit checkpoint) to each audit witness's address; due at once."""
    now = utcnow()
    for address in addresses:
        session.add(
            Outbox(
                to_address=address,
                kind=WITNESS,
                body=body,
                message_id=new_message_id(settings.mail_from),
                due_at=now,
            )
        )
    return len(addresses)


async def queue_notice(session: AsyncSession, settings: Settings, staff: Staff) -> bool:
    """Queue a notice to one person; False when a pending one absorbed it."""
    return await queue_notices(session, settings, [staff]) == 1


async def key_holders(session: AsyncSession, case_id: str) -> list[Staff]:
    """Active staff who hold a key to the case (the recovery key is no person)."""
    await session.flush()
    result = await session.exec(
        select(Staff)
        .join(CaseKey, col(CaseKey.staff_id) == col(Staff.id))
        .where(CaseKey.case_id == case_id)
        .where(col(Staff.active))
        .order_by(col(Staff.id))
    )
    return list(result.all())


async def reporter_audience(
    session: AsyncSession,
    *,
    groups: Sequence[str],
    roles: Sequence[str],
    case_id: str | None = None,
) -> list[Staff]:
    """Who is told of something a reporter did: every active staff member of ``roles`` in
    ``groups`` (the receiving officers), whoever the case went to, and the case's other
    active key holders (an investigator granted it), in id order.

    The first part does not depend on the case's routing (its exclusions, whether it involves
    the office); the second depends only on grants made later by staff.
    """
    await session.flush()
    result = await session.exec(
        select(Staff)
        .where(col(Staff.active))
        .where(col(Staff.group_name).in_(list(groups)))
        .where(col(Staff.role).in_(list(roles)))
    )
    people = {person.id: person for person in result.all()}
    if case_id is not None:
        for person in await key_holders(session, case_id):
            people.setdefault(person.id, person)
    return [people[key] for key in sorted(people)]


async def queue_case_notice(
    session: AsyncSession,
    runtime: Runtime,
    case_id: str,
    *,
    exclude_staff_id: str | None = None,
) -> int:
    """Notify the key holders of a case that something needs attention.

    Call it inside the event's own ``db.transaction``; ``exclude_staff_id`` is
    the staff member whose action caused the event. Returns how many new rows
    were written (absorbed notices do not count).
    """
    holders = [
        person for person in await key_holders(session, case_id) if person.id != exclude_staff_id
    ]
    return await queue_notices(session, runtime.settings, holders)


async def set_notify_mode(session: AsyncSession, staff: Staff, mode: str) -> None:
    """Immediate (delayed) notices or the daily digest only; pending notices follow."""
    if mode not in NOTIFY_MODES:
        raise InvalidInput(
            N_("The notification choice must be one of: %(modes)s."),
            field="mode",
            modes=", ".join(NOTIFY_MODES),
        )
    staff.notify_mode = mode
    session.add(staff)
    source, target = (NOTICE, HELD) if mode == "digest" else (HELD, NOTICE)
    mine = (col(Outbox.staff_id) == staff.id, col(Outbox.claimed_until).is_(None))
    existing = await session.exec(select(Outbox.id).where(*mine).where(Outbox.kind == target))
    if existing.first() is not None:  # one pending email of the new kind is enough
        await session.exec(delete(Outbox).where(*mine).where(col(Outbox.kind) == source))  # type: ignore[call-overload]
    else:
        await session.exec(
            update(Outbox)  # type: ignore[call-overload]
            .where(*mine)
            .where(col(Outbox.kind) == source)
            .values(kind=target)
        )


async def mail_status(session: AsyncSession) -> dict[str, Any]:
    """Counts of what waits in the outbox, for operators (no address, no time)."""
    counts: dict[str, Any] = {NOTICE: 0, HELD: 0, DIGEST: 0, "retrying": 0, "errors": {}}
    result = await session.exec(select(Outbox.kind, Outbox.attempts, Outbox.last_error))
    for kind, attempts, last_error in result.all():
        counts[kind] = counts.get(kind, 0) + 1
        if attempts and last_error:
            counts["retrying"] += 1
            counts["errors"][last_error] = counts["errors"].get(last_error, 0) + 1
    return counts
