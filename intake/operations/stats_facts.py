"""What the annual statistics read of each case, and the two grouped reads that count a year's
cases by those facts in the database (intake/operations/stats.py tallies and publishes them).

Only plaintext columns are read. :class:`CaseFacts` with :func:`ack_missed` and
:func:`feedback_missed` is the definition case by case; :func:`grouped_facts` applies the
same rules in SQL, and the tests hold the two together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Date, bindparam, case, extract, false, func, literal_column
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.casework.vocabulary import Outcome, Stage
from intake.deadlines import DeadlineRules
from intake.storage.models import Case, CaseIdentity
from intake.storage.sql_dates import days_between

OUTCOMES = tuple(Outcome)


@dataclass(frozen=True)
class CaseFacts:
    """The plaintext facts of one case that statistics use."""

    kind: str
    category: str
    stage: str
    outcome: str | None
    received_on: date
    acknowledged_on: date | None
    concluded_on: date | None
    ack_due: date
    feedback_due: date | None
    first_reply_on: date | None
    confidential: bool = False

    @property
    def progress(self) -> str:
        return progress_of(self.stage, self.outcome)


def progress_of(stage: str, outcome: str | None) -> str:
    """The one progress cell a case falls in."""
    if stage == Stage.CONCLUDED:
        return outcome if outcome in OUTCOMES else "other"
    if stage == Stage.INVESTIGATING:
        return "under_investigation"
    return "awaiting_decision"


async def facts_for_year(session: AsyncSession, year: int) -> list[CaseFacts]:
    """The facts of every case received in ``year``, stubs of deleted cases included, one
    object a case: the plain definition that :func:`annual`'s grouped read must agree with
    (the tests hold them together)."""
    rows = await session.exec(
        select(
            Case.kind,
            Case.category,
            Case.stage,
            Case.outcome,
            Case.received_on,
            Case.acknowledged_on,
            Case.concluded_on,
            Case.ack_due,
            Case.feedback_due,
            Case.first_reply_on,
            _confidential(),
        )
        .outerjoin(CaseIdentity, col(CaseIdentity.case_id) == col(Case.id))
        .where(*_received_in(year))
    )
    return [
        CaseFacts(
            kind=kind,
            category=category,
            stage=stage,
            outcome=outcome,
            received_on=received_on,
            acknowledged_on=acknowledged_on,
            concluded_on=concluded_on,
            ack_due=ack_due,
            feedback_due=feedback_due,
            first_reply_on=first_reply_on,
            confidential=bool(confidential),
        )
        for (
            kind,
            category,
            stage,
            outcome,
            received_on,
            acknowledged_on,
            concluded_on,
            ack_due,
            feedback_due,
            first_reply_on,
            confidential,
        ) in rows.all()
    ]


def _received_in(year: int) -> tuple[Any, ...]:
    return (Case.received_on >= date(year, 1, 1), Case.received_on <= date(year, 12, 31))


def _confidential() -> Any:
    """Whether the reporter gave a name under seal and has not withdrawn it."""
    return col(CaseIdentity.case_id).is_not(None) & col(CaseIdentity.withdrawn_on).is_(None)


def _earlier(first: Any, second: Any) -> Any:
    """The earlier of two dates that may be NULL (NULL only when both are)."""
    return case(
        (first.is_(None), second),
        (second.is_(None), first),
        (first < second, first),
        else_=second,
    )


def grouped_facts(year: int, as_of: date) -> Any:
    """The year's cases counted in groups that share every fact the figures use, the
    deadline rules worked out by the database: a few thousand rows for a year of a million
    cases, where reading each case cost a row, a Python object and its tally.

    The same rules as :func:`ack_missed` and :func:`feedback_missed`; a case acknowledged
    without a feedback date (none is written so since the first release) carries its day
    and the day feedback was given, for the rules to be applied in Python."""
    as_of_value = bindparam("as_of", as_of, type_=Date)
    answered = func.coalesce(Case.acknowledged_on, Case.concluded_on)
    given = _earlier(col(Case.first_reply_on), col(Case.concluded_on))
    legacy = col(Case.feedback_due).is_(None) & col(Case.acknowledged_on).is_not(None)
    keys = (
        col(Case.kind),
        col(Case.category),
        col(Case.stage),
        col(Case.outcome),
        extract("month", col(Case.received_on)),
        _confidential(),
        case((answered.is_not(None), answered > Case.ack_due), else_=as_of_value > Case.ack_due),
        case(
            (col(Case.feedback_due).is_(None), false()),
            (given.is_not(None), given > Case.feedback_due),
            else_=as_of_value > Case.feedback_due,
        ),
        case((legacy, col(Case.acknowledged_on))),
        case((legacy, given)),
    )
    return (
        select(*keys, func.count())
        .outerjoin(CaseIdentity, col(CaseIdentity.case_id) == col(Case.id))
        .where(*_received_in(year))
        .group_by(*_places(len(keys)))
    )


def grouped_days(year: int) -> Any:
    """How many of the year's cases took each number of days to be acknowledged and to be
    concluded (for the medians). A query of its own: grouped with the facts above, the days
    would make nearly every case a group of its own."""
    keys = (
        days_between(col(Case.acknowledged_on), col(Case.received_on)),
        days_between(col(Case.concluded_on), col(Case.received_on)),
    )
    return select(*keys, func.count()).where(*_received_in(year)).group_by(*_places(len(keys)))


def _places(count: int) -> list[Any]:
    """GROUP BY the first ``count`` columns, by position: PostgreSQL does not recognise an
    expression that holds a parameter as the same expression twice."""
    return [literal_column(str(place)) for place in range(1, count + 1)]


def ack_missed(case: CaseFacts, as_of: date) -> bool:
    answered = case.acknowledged_on or case.concluded_on
    return answered > case.ack_due if answered else as_of > case.ack_due


def feedback_missed(case: CaseFacts, as_of: date, rules: DeadlineRules) -> bool:
    """Feedback is due by ``feedback_due``; the office's first message to the reporter, or
    the conclusion (whose outcome the reporter sees), counts as feedback."""
    due = case.feedback_due
    if due is None and case.acknowledged_on is not None:
        due = rules.feedback_due(case.acknowledged_on)
    if due is None:
        return False
    given = min((day for day in (case.first_reply_on, case.concluded_on) if day), default=None)
    return given > due if given else as_of > due
