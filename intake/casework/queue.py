"""The staff queue: the cases a person holds a key to, filtered, ordered and paged in SQL.

Only plaintext columns are read for it (stage, due dates, category and assignment are plaintext
on purpose: see SECURITY.md); nothing is decrypted.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import case as when
from sqlalchemy import tuple_
from sqlmodel import col, select

from intake.accounts.sessions import SignedIn
from intake.casework.vocabulary import CaseKind, Channel, Stage
from intake.errors import InvalidInput
from intake.i18n import N_
from intake.numbers import is_digits
from intake.runtime import Runtime
from intake.storage.models import Case, CaseKey, Staff, is_id


@dataclass(frozen=True)
class QueueFilters:
    stage: str | None = None
    category: str | None = None
    overdue: bool = False
    mine: bool = False
    after: str | None = None  # an opaque cursor from the previous page
    limit: int = 50
    sort: str | None = None  # one of SORTS; None is the filter's own order (see queue)


@dataclass(frozen=True)
class QueueRow:
    ref: str
    kind: CaseKind
    channel: Channel
    category: str
    stage: Stage
    received_on: date
    ack_due: date | None
    feedback_due: date | None
    assignee_id: str | None
    assignee_name: str | None
    overdue: bool


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    next_cursor: str | None


def _encode_cursor(received_on: date, case_id: str) -> str:
    raw = f"{received_on.isoformat()}|{case_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[date, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        day, case_id = raw.split("|", 1)
        if not is_id(case_id):
            raise ValueError(case_id)
        return date.fromisoformat(day), case_id
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput(N_("The page cursor is not valid: start from the first page.")) from None


#: The orders a person may ask for: newest or oldest first, the soonest deadline first (cases
#: with none last), the workflow's order of stages, category, reference, assignee.
SORTS = ("received", "oldest", "due", "stage", "category", "ref", "assignee")
#: How far an ordered queue may be paged (an offset); beyond it, narrow the filters.
MAX_OFFSET = 100_000


def _encode_offset(offset: int) -> str:
    return base64.urlsafe_b64encode(f"@{offset}".encode()).decode().rstrip("=")


def _decode_offset(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        raw = ""
    digits = raw[1:]
    if not raw.startswith("@") or not is_digits(digits) or int(digits[:7]) > MAX_OFFSET:
        raise InvalidInput(N_("The page cursor is not valid: start from the first page."))
    return int(digits)


def validate_filters(filters: QueueFilters) -> None:
    if filters.sort is not None and filters.sort not in SORTS:
        raise InvalidInput(
            N_("The queue can be sorted by: %(sorts)s."), field="sort", sorts=", ".join(SORTS)
        )
    if filters.stage is not None and filters.stage not in tuple(Stage):
        raise InvalidInput(
            N_("The stage must be one of: %(stages)s."), field="stage", stages=", ".join(Stage)
        )
    if filters.category is not None and (
        len(filters.category) > 50 or not filters.category.isprintable()
    ):
        raise InvalidInput(N_("There is no such category."), field="category")
    if not 1 <= filters.limit <= 200:
        raise InvalidInput(N_("The page size must be between 1 and 200."), field="limit")


# Only what the queue shows: no ciphertext or key material is read for it.
QUEUE_COLUMNS = (
    Case.id,
    Case.ref,
    Case.kind,
    Case.channel,
    Case.category,
    Case.stage,
    Case.received_on,
    Case.acknowledged_on,
    Case.ack_due,
    Case.feedback_due,
    Case.first_reply_on,
    Case.concluded_on,
    Case.next_due,
    Case.assignee_id,
)


async def queue(runtime: Runtime, signed_in: SignedIn, filters: QueueFilters) -> QueuePage:
    """The cases this person holds a key to; filtered, ordered and paged in SQL, decrypting nothing.

    Each query walks one index in the page's order and stops after a page, so its cost does not
    grow with the number of cases: the default queue walks this person's keys newest first
    (``ix_casekey_staff_received``); "assigned to me" walks the case table by assignee; the
    overdue queue walks cases by due date, most overdue first.
    """
    validate_filters(filters)
    today = runtime.today()
    me = signed_in.staff.id
    assignee = select(Staff.name).where(Staff.id == Case.assignee_id).scalar_subquery()
    statement = select(*QUEUE_COLUMNS, assignee.label("assignee_name"))
    ordered = filters.sort is not None and filters.sort != _own_order(filters)
    cursor = _decode_cursor(filters.after) if filters.after and not ordered else None
    if ordered:
        assert filters.sort is not None
        offset = _decode_offset(filters.after) if filters.after else 0
        statement = _sorted(statement.where(_holds_key(me)), filters.sort, assignee)
        if filters.mine:
            statement = statement.where(Case.assignee_id == me)
        if filters.overdue:
            statement = statement.where(col(Case.next_due) < today)
        statement = statement.offset(offset)
    elif filters.overdue or filters.mine:
        holds_key = (
            select(CaseKey.id)
            .where(CaseKey.case_id == Case.id)
            .where(CaseKey.staff_id == me)
            .exists()
        )
        statement = statement.where(holds_key)
        if filters.mine:
            statement = statement.where(Case.assignee_id == me)
        if filters.overdue:
            statement = statement.where(col(Case.next_due) < today)
            order = (col(Case.next_due), col(Case.id))
            if cursor:
                statement = statement.where(tuple_(*order) > tuple_(*cursor))
            statement = statement.order_by(*order)
        else:
            order = (col(Case.received_on), col(Case.id))
            if cursor:
                statement = statement.where(tuple_(*order) < tuple_(*cursor))
            statement = statement.order_by(*(column.desc() for column in order))
    else:
        statement = statement.join(CaseKey, col(CaseKey.case_id) == Case.id).where(
            CaseKey.staff_id == me
        )
        order = (col(CaseKey.received_on), col(CaseKey.case_id))
        if cursor:
            statement = statement.where(tuple_(*order) < tuple_(*cursor))
        statement = statement.order_by(*(column.desc() for column in order))
    if filters.stage:
        statement = statement.where(Case.stage == filters.stage)
    if filters.category:
        statement = statement.where(Case.category == filters.category)
    async with runtime.sessions() as session:
        rows = (await session.exec(statement.limit(filters.limit + 1))).all()
    page = [
        QueueRow(
            ref=row.ref,
            kind=CaseKind(row.kind),
            channel=Channel(row.channel),
            category=row.category,
            stage=Stage(row.stage),
            received_on=row.received_on,
            ack_due=row.ack_due if row.acknowledged_on is None else None,
            # Gone once feedback was given: the first message to the reporter, or the conclusion.
            feedback_due=None if row.first_reply_on or row.concluded_on else row.feedback_due,
            assignee_id=row.assignee_id,
            assignee_name=row.assignee_name,
            overdue=row.next_due is not None and row.next_due < today,
        )
        for row in rows[: filters.limit]
    ]
    next_cursor = None
    if len(rows) > filters.limit and ordered:
        next_cursor = _encode_offset(offset + filters.limit)
    elif len(rows) > filters.limit:
        last = rows[filters.limit - 1]
        key_day = last.next_due if filters.overdue else last.received_on
        assert key_day is not None
        next_cursor = _encode_cursor(key_day, last.id)
    return QueuePage(rows=page, next_cursor=next_cursor)


def _own_order(filters: QueueFilters) -> str:
    """The order a filter walks its index in: the overdue queue by due date, the others newest
    first. Asking for it pages by key, as with no order asked."""
    return "due" if filters.overdue else "received"


def _holds_key(staff_id: str) -> Any:
    return (
        select(CaseKey.id)
        .where(CaseKey.case_id == Case.id)
        .where(CaseKey.staff_id == staff_id)
        .exists()
    )


_STAGE_ORDER = when({stage.value: number for number, stage in enumerate(Stage)}, value=Case.stage)


def _sorted(statement: Any, sort: str, assignee: Any) -> Any:
    """``statement`` in the order ``sort`` names (one of :data:`SORTS`), ties by case id."""
    orders: dict[str, tuple[Any, ...]] = {
        "received": (col(Case.received_on).desc(), col(Case.id).desc()),
        "oldest": (col(Case.received_on), col(Case.id)),
        "due": (col(Case.next_due).is_(None), col(Case.next_due), col(Case.id)),
        "stage": (_STAGE_ORDER, col(Case.received_on).desc(), col(Case.id)),
        "category": (col(Case.category), col(Case.received_on).desc(), col(Case.id)),
        "ref": (col(Case.ref),),
        "assignee": (assignee.is_(None), assignee, col(Case.received_on).desc(), col(Case.id)),
    }
    return statement.order_by(*orders[sort])
