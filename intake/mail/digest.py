"""The daily digest: counts of deadlines, per staff member, from plaintext due dates.

Once a day (at ``QUIETLINE_MAIL_DIGEST_HOUR`` in the office's time zone) each
active staff member whose cases have a deadline today, soon or passed, or who
chose the digest and had activity since the last one, gets one email of
counts: "2 cases need acknowledgement today". No reference, no category.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_
from sqlalchemy import case as when
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from intake import i18n
from intake.casework.vocabulary import OPEN_AFTER_ACKNOWLEDGEMENT, Stage
from intake.i18n import N_, N_plural
from intake.mail.compose import digest_body, new_message_id
from intake.mail.outbox import DIGEST, HELD, unclaimed
from intake.runtime import Runtime
from intake.storage.db import utcnow
from intake.storage.models import Case, CaseKey, Outbox, Setting, Staff

SOON_DAYS = 3
FEEDBACK_STAGES = OPEN_AFTER_ACKNOWLEDGEMENT
LAST_DIGEST_KEY = "mail.digest_on"


@dataclass
class DigestCounts:
    ack_overdue: int = 0
    ack_today: int = 0
    ack_soon: int = 0
    feedback_overdue: int = 0
    feedback_today: int = 0
    feedback_soon: int = 0
    activity: bool = False  # held notices (the person chose the digest)

    def lines(self, locale: str) -> list[str]:
        """The digest's lines in ``locale``: a count for each deadline that has one."""
        candidates = [
            (
                self.ack_overdue,
                N_plural(
                    "%(num)s case is past its acknowledgement deadline",
                    "%(num)s cases are past their acknowledgement deadline",
                ),
            ),
            (
                self.ack_today,
                N_plural(
                    "%(num)s case needs acknowledgement today",
                    "%(num)s cases need acknowledgement today",
                ),
            ),
            (
                self.ack_soon,
                N_plural(
                    "%(num)s case needs acknowledgement within %(days)s days",
                    "%(num)s cases need acknowledgement within %(days)s days",
                ),
            ),
            (
                self.feedback_overdue,
                N_plural(
                    "%(num)s case is past its feedback deadline",
                    "%(num)s cases are past their feedback deadline",
                ),
            ),
            (
                self.feedback_today,
                N_plural(
                    "%(num)s case needs feedback to the reporter today",
                    "%(num)s cases need feedback to the reporter today",
                ),
            ),
            (
                self.feedback_soon,
                N_plural(
                    "%(num)s case needs feedback to the reporter within %(days)s days",
                    "%(num)s cases need feedback to the reporter within %(days)s days",
                ),
            ),
        ]
        lines = [
            i18n.ngettext(
                sentence.singular,
                sentence.plural,
                count,
                {"days": SOON_DAYS},
                locale=locale,
            )
            for count, sentence in candidates
            if count
        ]
        if self.activity:
            lines.append(
                i18n.gettext(
                    N_("There is new activity on your cases since the last summary."),
                    locale=locale,
                )
            )
        return lines

    def has_news(self) -> bool:
        return self.activity or any(
            (
                self.ack_overdue,
                self.ack_today,
                self.ack_soon,
                self.feedback_overdue,
                self.feedback_today,
                self.feedback_soon,
            )
        )


async def deadline_counts(session: AsyncSession, today: date) -> dict[str, DigestCounts]:
    """Counts per active staff member, over the cases they hold a key to.

    Counted by the database, one row per person: reading a row per case key instead made the
    day's first digest fetch millions of rows at a million cases, and the server, building
    them, answered nothing else for seconds.
    """
    horizon = today + timedelta(days=SOON_DAYS)
    awaiting_ack = and_(col(Case.stage) == Stage.RECEIVED, col(Case.ack_due) <= horizon)
    awaiting_feedback = and_(
        col(Case.stage).in_(FEEDBACK_STAGES),
        col(Case.feedback_due).is_not(None),
        col(Case.feedback_due) <= horizon,
        # The office's first message to the reporter was the feedback.
        col(Case.first_reply_on).is_(None),
    )

    def counted(awaiting: Any, due: Any) -> tuple[Any, Any, Any]:
        """How many cases awaiting it are overdue, due today, due soon."""
        return tuple(
            func.sum(when((and_(awaiting, moment), 1), else_=0))
            for moment in (due < today, due == today, due > today)
        )  # type: ignore[return-value]

    result = await session.exec(
        select(  # type: ignore[call-overload]
            CaseKey.staff_id,
            *counted(awaiting_ack, col(Case.ack_due)),
            *counted(awaiting_feedback, col(Case.feedback_due)),
        )
        .join(Case, col(Case.id) == col(CaseKey.case_id))
        .join(Staff, col(Staff.id) == col(CaseKey.staff_id))
        .where(col(Staff.active))
        .where(or_(awaiting_ack, awaiting_feedback))
        .group_by(col(CaseKey.staff_id))
    )
    counts: dict[str, DigestCounts] = defaultdict(DigestCounts)
    for staff_id, *numbers in result.all():
        if staff_id is not None:
            ack_overdue, ack_today, ack_soon, late, today_, soon = (int(n or 0) for n in numbers)
            counts[staff_id] = DigestCounts(
                ack_overdue=ack_overdue,
                ack_today=ack_today,
                ack_soon=ack_soon,
                feedback_overdue=late,
                feedback_today=today_,
                feedback_soon=soon,
            )
    return counts


async def _claim_day(session: AsyncSession, today: date) -> bool:
    """True once per day across every process: records that today's digest is queued."""
    row = (
        await session.exec(select(Setting).where(Setting.key == LAST_DIGEST_KEY).with_for_update())
    ).first()
    if row is not None and json.loads(row.value) >= today.isoformat():
        return False
    if row is None:
        row = Setting(key=LAST_DIGEST_KEY, value="")
    row.value = json.dumps(today.isoformat())
    session.add(row)
    await session.flush()  # two processes inserting at once: one fails here, and retries later
    return True


async def queued_on(session: AsyncSession) -> date | None:
    """The last day whose digests were queued (a plain read: no lock)."""
    row = await session.get(Setting, LAST_DIGEST_KEY)
    return date.fromisoformat(json.loads(row.value)) if row is not None and row.value else None


async def queue_daily_digests(
    session: AsyncSession,
    runtime: Runtime,
    today: date,
    *,
    once: bool = True,
    counts: dict[str, DigestCounts] | None = None,
) -> int | None:
    """Queue today's digests inside ``session`` (a write transaction).

    Returns how many were queued, or None when today's were queued already.
    A digest absorbs the person's held notices and any older digest still
    waiting (a mail server down since yesterday: the fresh counts replace it).
    ``counts`` read beforehand (:func:`deadline_counts`, outside the write transaction)
    spare the transaction a read over every case key, which on SQLite would hold the write
    lock, and the event loop, for seconds at a million cases.
    """
    if once and not await _claim_day(session, today):
        return None
    now = utcnow()
    # Lock what this may delete first, in id order: the order queue_notices locks in, so a
    # report committing at this moment waits its turn instead of deadlocking with us.
    await session.exec(
        select(Outbox.id)
        .where(col(Outbox.kind).in_((DIGEST, HELD)))
        .where(unclaimed(now))
        .order_by(col(Outbox.id))
        .with_for_update()
    )
    if counts is None:
        counts = await deadline_counts(session, today)
    held = await session.exec(select(Outbox.staff_id).where(Outbox.kind == HELD))
    for staff_id in set(held.all()):
        counts[staff_id].activity = True
    active = set((await session.exec(select(Staff.id).where(col(Staff.active)))).all())
    queued = 0
    for staff_id in sorted(counts):
        found = counts[staff_id]
        if staff_id not in active or not found.has_news():
            continue
        await session.exec(
            delete(Outbox)  # type: ignore[call-overload]
            .where(col(Outbox.staff_id) == staff_id)
            .where(col(Outbox.kind).in_((DIGEST, HELD)))
            .where(unclaimed(now))
        )
        session.add(
            Outbox(
                staff_id=staff_id,
                kind=DIGEST,
                body=digest_body(found.lines),
                message_id=new_message_id(runtime.settings.mail_from),
                due_at=now,
            )
        )
        queued += 1
    return queued
