"""Reading the audit log: who may see which events, the filters, paging, and the download.

The log itself (``intake/operations/audit.py``) holds every staff action. Reading it is scoped
by the reader (SECURITY.md, "Who reads the audit log"):

- an event about a case is shown only to a reader who can open that case (who holds a sealed
  copy of its key, or held one when it was purged). Any other reader gets nothing of it: no
  row, no reference, no category, no count, no gap in a sequence number, so the log never tells
  the solicitor's office that a case it cannot open (one routed to the alternate group, or one
  whose reporter excluded the reader) exists;
- an event about no case is shown to officers and administrators when its actor is a member of
  their own group, or is not a staff member at all (the command line, the server, an unknown
  account); the events of another group's staff (their sign-ins, for one) stay with that group,
  since how often they work says whether they have cases;
- the operator (``quietline audit list``, who holds the database anyway) sees every event.

What an event shows of its detail is ``intake.operations.audit_facts``'s whitelist.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, func, insert, or_, select, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.casework.vocabulary import Role
from intake.errors import InvalidInput
from intake.i18n import N_
from intake.operations import audit
from intake.operations.audit_facts import KINDS, facts_of, kind_of
from intake.runtime import Runtime
from intake.storage import db
from intake.storage.models import AuditEvent, Case, CaseKey, PurgedHolder, Staff

#: The readers of the audit page and the API: the roles that work a group's cases and run it.
READER_ROLES = (Role.OFFICER, Role.ADMIN)
PAGE_SIZE = 50
#: A download holds at most this many events; a larger one asks for a narrower filter.
DOWNLOAD_LIMIT = 100_000
FORMATS = ("csv", "json")

_REF = re.compile(r"^[A-Z0-9-]{1,20}$")
_CURSOR = re.compile(
    r"^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}\+00:00)~([0-9]{1,6})$"
)
_FIRST_YEAR, _LAST_YEAR = 2000, 9000


@dataclass(frozen=True)
class Reader:
    """Whose view of the log: a staff member's (scoped as the module says) or the operator's."""

    staff_id: str | None = None
    email: str | None = None
    group: str | None = None
    sees_group: bool = False

    @property
    def operator(self) -> bool:
        return self.staff_id is None

    @classmethod
    def of(cls, staff: Staff) -> Reader:
        return cls(
            staff_id=staff.id,
            email=staff.email,
            group=staff.group_name,
            sees_group=staff.role in READER_ROLES,
        )


OPERATOR = Reader()


@dataclass(frozen=True)
class Filters:
    actor: str | None = None
    kind: str | None = None
    case_ref: str | None = None
    since: date | None = None
    until: date | None = None
    #: Several kinds at once (a case's timeline); not a filter people set on the page.
    kinds: tuple[str, ...] = ()

    @property
    def any(self) -> bool:
        return any((self.actor, self.kind, self.case_ref, self.since, self.until))

    def as_query(self) -> dict[str, str]:
        """The filters as the query parameters of the page (for links to the next page)."""
        values = {
            "actor": self.actor,
            "kind": self.kind,
            "case": self.case_ref,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }
        return {name: value for name, value in values.items() if value}


def _day(text: str, name: str) -> date | None:
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is None or len(text) != 10 or not _FIRST_YEAR <= day.year <= _LAST_YEAR:
        raise InvalidInput(N_("Give the date as YYYY-MM-DD, for example 2026-03-31."), field=name)
    return day


def parse_filters(values: Mapping[str, str], *, any_kind: bool = False) -> Filters:
    """The filters from query parameters or command-line options: ``actor``, ``kind``, ``case``,
    ``since`` and ``until`` (days, inclusive, in the office's time zone). ``any_kind`` lets a
    kind be any stored action (the operator's command), not only one of :data:`KINDS`."""
    actor = values.get("actor", "").strip().lower()
    if len(actor) > 254 or any(ord(char) < 32 for char in actor):
        raise InvalidInput(N_("This is not a staff member's email address."), field="actor")
    kind = values.get("kind", "").strip()
    if kind and kind not in KINDS and not (any_kind and len(kind) <= 50):
        raise InvalidInput(N_("There is no such kind of event."), field="kind")
    ref = values.get("case", "").strip().upper()
    if ref and not _REF.match(ref):
        raise InvalidInput(N_("This is not a case reference."), field="case")
    since, until = _day(values.get("since", ""), "since"), _day(values.get("until", ""), "until")
    if since and until and since > until:
        raise InvalidInput(N_("The first day comes after the last."), field="since")
    return Filters(actor or None, kind or None, ref or None, since, until)


@dataclass(frozen=True)
class Event:
    """One event as a reader may see it. ``seq`` is given to the operator only: its gaps would
    count the events hidden from anyone else."""

    at: datetime
    actor: str
    action: str
    case_ref: str | None
    facts: dict[str, str] = field(default_factory=dict)
    seq: int | None = None

    @property
    def kind(self) -> str:
        return kind_of(self.action)


@dataclass(frozen=True)
class Page:
    events: list[Event]
    next_cursor: str | None


_EVENT = AuditEvent.__table__  # type: ignore[attr-defined]
_CASE = Case.__table__  # type: ignore[attr-defined]
_KEY = CaseKey.__table__  # type: ignore[attr-defined]
_STAFF = Staff.__table__  # type: ignore[attr-defined]
_PURGED = PurgedHolder.__table__  # type: ignore[attr-defined]


def _visible(reader: Reader) -> ColumnElement[bool]:
    """The events this reader may see, as a condition on the event row."""
    if reader.operator:
        return true()
    held = (
        select(_CASE.c.ref)
        .join(_KEY, _KEY.c.case_id == _CASE.c.id)
        .where(_KEY.c.staff_id == reader.staff_id)
    )
    held_when_purged = (
        select(_CASE.c.ref)
        .join(_PURGED, _PURGED.c.case_id == _CASE.c.id)
        .where(_PURGED.c.staff_id == reader.staff_id)
    )
    # The reference as an expression, not the bare column: otherwise SQLite gathers every
    # visible event through the case_ref index and sorts them all, where walking the time index
    # (ix_auditevent_at_seq) newest first stops after one page. A case filter still uses the
    # case_ref index (it compares the bare column).
    ref = func.coalesce(_EVENT.c.case_ref, "")
    about_a_case = and_(ref != "", or_(ref.in_(held), ref.in_(held_when_purged)))
    if reader.sees_group:
        other_groups = select(_STAFF.c.email).where(_STAFF.c.group_name != reader.group)
        about_no_case = and_(ref == "", _EVENT.c.actor.not_in(other_groups))
    else:
        about_no_case = and_(ref == "", _EVENT.c.actor == reader.email)
    return or_(about_a_case, about_no_case)


def _start_of(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone)


def _conditions(reader: Reader, filters: Filters, zone: ZoneInfo) -> list[ColumnElement[bool]]:
    conditions = [_visible(reader)]
    if filters.actor:
        conditions.append(_EVENT.c.actor == filters.actor)
    if filters.kind:
        conditions.append(_EVENT.c.action.in_(KINDS.get(filters.kind, (filters.kind,))))
    if filters.kinds:
        actions = [action for kind in filters.kinds for action in KINDS.get(kind, (kind,))]
        conditions.append(_EVENT.c.action.in_(actions))
    if filters.case_ref:
        conditions.append(_EVENT.c.case_ref == filters.case_ref)
    if filters.since:
        conditions.append(_EVENT.c.at >= _start_of(filters.since, zone))
    if filters.until:
        conditions.append(_EVENT.c.at < _start_of(filters.until + timedelta(days=1), zone))
    return conditions


def _event(row: Any, reader: Reader) -> Event:
    return Event(
        at=row.at,
        actor=row.actor,
        action=row.action,
        case_ref=row.case_ref,
        facts=facts_of(row.action, row.detail),
        seq=row.seq if reader.operator else None,
    )


def _columns() -> Any:
    return select(
        _EVENT.c.seq,
        _EVENT.c.at,
        _EVENT.c.actor,
        _EVENT.c.action,
        _EVENT.c.case_ref,
        _EVENT.c.detail,
    )


def _parse_cursor(cursor: str) -> tuple[datetime, int]:
    found = _CURSOR.match(cursor)
    try:
        at = datetime.fromisoformat(found.group(1)) if found else None
    except ValueError:  # the shape of a link, not a moment (month 13, say)
        at = None
    if found is None or at is None:
        raise InvalidInput(N_("This link to a further page is not valid."), field="after")
    return at, int(found.group(2))


def _cursor_after(events: list[Event], start: tuple[datetime, int] | None) -> str:
    """Where the next page starts: the last time shown, and how many events of exactly that
    time were shown already (so events of one moment split across pages are neither lost nor
    repeated). It is made of times the reader sees, never of sequence numbers."""
    last = events[-1].at
    same = sum(1 for event in events if event.at == last)
    if start is not None and start[0] == last:
        same += start[1]
    return f"{last.astimezone(ZoneInfo('UTC')).isoformat(timespec='microseconds')}~{same}"


async def page(
    runtime: Runtime,
    reader: Reader,
    filters: Filters,
    *,
    after: str | None = None,
    limit: int = PAGE_SIZE,
) -> Page:
    """A page of the events this reader may see, newest first."""
    start = _parse_cursor(after) if after else None
    zone = ZoneInfo(runtime.settings.timezone)
    conditions = _conditions(reader, filters, zone)
    if start is not None:
        conditions.append(_EVENT.c.at <= start[0])
    statement = (
        _columns()
        .where(*conditions)
        .order_by(_EVENT.c.at.desc(), _EVENT.c.seq.desc())
        .offset(start[1] if start else 0)
        .limit(limit + 1)
    )
    async with runtime.sessions() as session:
        rows = (await session.exec(statement)).all()  # type: ignore[call-overload]
    events = [_event(row, reader) for row in rows[:limit]]
    more = len(rows) > limit and events
    return Page(events=events, next_cursor=_cursor_after(events, start) if more else None)


async def keep_readers(session: AsyncSession, case_id: str) -> None:
    """Remember who holds a sealed copy of the case's key, inside the purge's transaction and
    before it deletes the copies: they stay the readers of the case's history."""
    await keep_readers_of(session, [case_id])


async def keep_readers_of(session: AsyncSession, case_ids: Sequence[str]) -> None:
    """:func:`keep_readers` for several cases, in one statement."""
    holders = select(_KEY.c.case_id, _KEY.c.staff_id).where(
        _KEY.c.case_id.in_(list(case_ids)), _KEY.c.staff_id.is_not(None)
    )
    await session.exec(  # type: ignore[call-overload]
        insert(_PURGED).from_select(["case_id", "staff_id"], holders)
    )


async def case_history(
    runtime: Runtime,
    reader: Reader,
    ref: str,
    *,
    limit: int = PAGE_SIZE,
    kinds: tuple[str, ...] = (),
) -> Page:
    """The latest events of one case (of ``kinds`` only, when given), for its holders (nothing
    for anyone else)."""
    return await page(runtime, reader, Filters(case_ref=ref, kinds=kinds), limit=limit)


async def _in_order(
    session: AsyncSession, reader: Reader, filters: Filters, zone: ZoneInfo, *, batch: int
) -> AsyncIterator[Event]:
    """Every event this reader may see, oldest first, read in batches along the chain."""
    conditions = _conditions(reader, filters, zone)
    after = 0
    while True:
        statement = (
            _columns()
            .where(*conditions, _EVENT.c.seq > bindparam("after"))
            .order_by(_EVENT.c.seq)
            .limit(batch)
        )
        rows = (await session.exec(statement, params={"after": after})).all()  # type: ignore[call-overload]
        for row in rows:
            yield _event(row, reader)
        if len(rows) < batch:
            return
        after = rows[-1].seq


async def every_event(
    runtime: Runtime, reader: Reader, filters: Filters, *, batch: int = 2000
) -> AsyncIterator[Event]:
    """Every event this reader may see, oldest first (``quietline audit list``)."""
    zone = ZoneInfo(runtime.settings.timezone)
    async with runtime.sessions() as session:
        async for event in _in_order(session, reader, filters, zone, batch=batch):
            yield event


async def download(
    runtime: Runtime, reader: Reader, filters: Filters, *, form: str, actor: str
) -> list[Event]:
    """Every event this reader may see under ``filters``, oldest first, for a download in
    ``form`` (csv or json). The download is itself an event, committed before anything is
    handed over; a case filter makes it an event about that case, so only the case's readers
    see that it was taken. The events are read before the write transaction, so a large
    download never holds SQLite's write lock while it reads.
    """
    if form not in FORMATS:
        raise InvalidInput(N_("Choose csv or json."), field="format")
    events: list[Event] = []
    async with aclosing(every_event(runtime, reader, filters, batch=5000)) as stream:
        async for event in stream:
            events.append(event)
            if len(events) > DOWNLOAD_LIMIT:
                raise InvalidInput(
                    N_("More than %(limit)s events match: choose fewer days or a filter."),
                    limit=DOWNLOAD_LIMIT,
                )
    detail = {"format": form, **filters.as_query()}
    detail.pop("case", None)
    async with db.transaction(runtime.sessions) as session:
        await audit.record(
            session, actor=actor, action="audit.export", case_ref=filters.case_ref, detail=detail
        )
    return events
