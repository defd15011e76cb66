"""Retention: when a concluded case's content is destroyed, and the purge that destroys it.

A concluded case is kept for a period that depends on its outcome
(``QUIETLINE_RETENTION_MONTHS``), counted from the day it was concluded. Key
holders are told ``QUIETLINE_RETENTION_NOTICE_DAYS`` before; a case whose notice
went out late is kept until that many days after the notice. A case on legal
hold is never deleted.

The purge is crypto-shredding: it deletes every wrap of the case data key (staff
seals, the recovery seal and the reporter's wrap), every ciphertext (report,
messages, notes) and every attachment file, in one transaction per case. What
stays is an anonymous stub in the ``case`` row: category, kind, channel, group,
the days received, acknowledged and concluded, due dates, the outcome and the
token lookup hash, so the register and the statistics stay right and a reporter
who comes back is told the case was closed and deleted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, func, text, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from intake import attachments, mail
from intake.casework import identity, once
from intake.casework.vocabulary import Stage
from intake.config import Settings
from intake.deadlines import add_months
from intake.errors import InvalidInput
from intake.i18n import N_
from intake.operations import audit, audit_read
from intake.runtime import Runtime
from intake.storage import db
from intake.storage.models import Case, CaseAnswers, CaseKey, Entry

logger = logging.getLogger("quietline.retention")
# Tables a purge deletes from (quoted where the name is a keyword); fixed names, never input.
SHREDDED_TABLES = ('"case"', "casekey", "entry", "caseanswers", "attachment", "attachmentchunk")
# How a purge shares the write lock with reporters filing meanwhile: each transaction destroys
# at most PURGE_BATCH cases, fewer when the last one held the lock longer than BATCH_SECONDS
# (the next batch is sized to take about that long), and the purge then pauses for a share of
# the time that transaction took (at least PAUSE_BETWEEN_BATCHES), so that writers of another
# process, which retry SQLite's lock at growing intervals, find it free.
PURGE_BATCH = 50
BATCH_SECONDS = 0.05
PAUSE_BETWEEN_BATCHES = 0.01
# A purge in a process of its own (`quietline purge`) pauses as long as each batch: the server's
# writers are in another process and wait on SQLite's lock, retrying at intervals.
PAUSE_SHARE_ALONE = 1.0
# The server's own retention run pauses a quarter as long: its reporters queue for the lock in
# order in the same process (storage/db.py) and take it between two batches without a pause;
# the short pause is for another process's writer (a command), which finds the lock free a
# fifth of the time instead of half.
PAUSE_SHARE_IN_SERVER = 0.25


@dataclass(frozen=True)
class RetentionPolicy:
    months_by_outcome: dict[str, int]
    notice_days: int

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        return cls(dict(settings.retention_months), settings.retention_notice_days)

    def retain_until(self, case: Case | Candidate) -> date | None:
        """The first day the case may be deleted, or None when it is kept (not concluded,
        or an outcome without a retention period)."""
        if case.stage != Stage.CONCLUDED or case.concluded_on is None or case.outcome is None:
            return None
        months = self.months_by_outcome.get(case.outcome)
        if months is None:
            return None
        return add_months(case.concluded_on, months)

    def notice_from(self, case: Case | Candidate) -> date | None:
        until = self.retain_until(case)
        return None if until is None else until - timedelta(days=self.notice_days)

    def delete_from(self, case: Case | Candidate) -> date | None:
        """The day deletion may happen: never before the retention period ends, and never
        less than the notice period after key holders were told."""
        until = self.retain_until(case)
        if until is None or case.deletion_notice_on is None:
            return None
        return max(until, case.deletion_notice_on + timedelta(days=self.notice_days))


@dataclass
class PurgeReport:
    today: date
    dry_run: bool = False
    noticed: list[str] = field(default_factory=list)
    purged: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    waiting: list[tuple[str, date]] = field(default_factory=list)
    wal_truncated: bool | None = None

    def lines(self) -> list[str]:
        verb = "would be" if self.dry_run else "were"
        out = [f"retention run for {self.today.isoformat()}"]
        out.append(f"{len(self.noticed)} case(s) {verb} announced to their key holders")
        out.extend(f"  notice: {ref}" for ref in self.noticed)
        out.append(f"{len(self.purged)} case(s) {verb} deleted (crypto-shredded)")
        out.extend(f"  deleted: {ref}" for ref in self.purged)
        if self.waiting:
            out.append(f"{len(self.waiting)} case(s) announced, deleted on or after:")
            out.extend(f"  {ref}: {day.isoformat()}" for ref, day in self.waiting)
        if self.held:
            out.append(f"{len(self.held)} case(s) past retention kept under legal hold")
            out.extend(f"  legal hold: {ref}" for ref in self.held)
        if self.wal_truncated is False:
            out.append(
                "warning: the SQLite write-ahead log could not be truncated (readers were "
                "active); it will be on the next checkpoint"
            )
        return out


async def set_legal_hold(session: AsyncSession, case: Case, *, hold: bool, actor: str) -> bool:
    """Put a case on legal hold or lift it, inside the caller's write transaction (audited).
    Returns whether anything changed."""
    if case.purged_on is not None:
        raise InvalidInput(N_("This case was deleted under the retention rules: nothing to hold."))
    if case.legal_hold == hold:
        return False
    case.legal_hold = hold
    session.add(case)
    await audit.record(
        session,
        actor=actor,
        action="case.legal_hold" if hold else "case.legal_hold_released",
        case_ref=case.ref,
    )
    return True


@dataclass
class Candidate:
    """The columns of a concluded case that decide its retention: read for every concluded
    case on each run, so they are read as plain rows, not whole cases."""

    id: str
    ref: str
    stage: str
    outcome: str | None
    concluded_on: date | None
    deletion_notice_on: date | None
    legal_hold: bool
    assignee_id: str | None
    linked_case_id: str | None


# The columns of a Candidate, in its order.
_CANDIDATE_COLUMNS = (
    Case.id,
    Case.ref,
    Case.stage,
    Case.outcome,
    Case.concluded_on,
    Case.deletion_notice_on,
    Case.legal_hold,
    Case.assignee_id,
    Case.linked_case_id,
)
# What a destroyed case's stub keeps of its content: nothing. The same for every stub; the
# assignee and the linked case are emptied apart, only where set, because each is in an index
# that SQLite rewrites for every row an UPDATE names it in, even with the value it had.
_SHREDDED_STUB: dict[str, Any] = {
    "reporter_wrap": None,
    "exclusions": None,
    "salt": b"",
    "next_seq": 1,
}


async def _candidates(session: AsyncSession) -> list[Candidate]:
    result = await session.exec(
        select(*_CANDIDATE_COLUMNS)
        .where(Case.stage == Stage.CONCLUDED)
        .where(col(Case.purged_on).is_(None))
        .where(col(Case.concluded_on).is_not(None))
        .order_by(col(Case.concluded_on))
    )
    return [Candidate(*row) for row in result.all()]


async def _counts(session: AsyncSession, column: Any, case_ids: Sequence[str]) -> dict[str, int]:
    result = await session.exec(
        select(column, func.count()).where(column.in_(case_ids)).group_by(column)
    )
    return {case_id: int(count) for case_id, count in result.all()}


async def shred_case(
    session: AsyncSession, runtime: Runtime, case: Case, *, today: date, actor: str
) -> dict[str, int]:
    """Destroy a case's content inside the caller's write transaction; keep the stub."""
    return (await shred_cases(session, runtime, [case], today=today, actor=actor))[case.id]


async def shred_cases(
    session: AsyncSession,
    runtime: Runtime,
    cases: Sequence[Case | Candidate],
    *,
    today: date,
    actor: str,
) -> dict[str, dict[str, int]]:
    """Destroy several cases' content inside the caller's write transaction, one statement per
    table for all of them (the stubs too: every stub is left the same); keep each stub, and
    audit each case. Returns each case's counts."""
    ids = [case.id for case in cases]
    entries = await _counts(session, col(Entry.case_id), ids)
    keys = await _counts(session, col(CaseKey.case_id), ids)
    files = await attachments.delete_for_cases(session, ids)
    await session.exec(delete(Entry).where(col(Entry.case_id).in_(ids)))  # type: ignore[call-overload]
    await session.exec(delete(CaseAnswers).where(col(CaseAnswers.case_id).in_(ids)))  # type: ignore[call-overload]
    await audit_read.keep_readers_of(session, ids)
    await identity.shred_many(session, ids)
    await session.exec(delete(CaseKey).where(col(CaseKey.case_id).in_(ids)))  # type: ignore[call-overload]
    # An ORM update: a Case of the caller's session reads its new values afterwards.
    await session.exec(  # type: ignore[call-overload]
        update(Case).where(col(Case.id).in_(ids)).values(**_SHREDDED_STUB, purged_on=today)
    )
    linked = [case.id for case in cases if case.assignee_id or case.linked_case_id]
    if linked:
        await session.exec(  # type: ignore[call-overload]
            update(Case)
            .where(col(Case.id).in_(linked))
            .values(assignee_id=None, linked_case_id=None)
        )
    counted = {
        case.id: {
            "entries": entries.get(case.id, 0),
            "keys": keys.get(case.id, 0),
            "files": files.get(case.id, 0),
        }
        for case in cases
    }
    await audit.record_about_cases(
        session,
        actor=actor,
        action="case.purged",
        details=[(case.ref, {"outcome": case.outcome, **counted[case.id]}) for case in cases],
    )
    return counted


async def _purge_batch(
    runtime: Runtime, case_ids: Sequence[str], *, today: date, actor: str
) -> list[str]:
    """Destroy the cases of one batch that are still due, in one transaction; their refs."""
    policy = RetentionPolicy.from_settings(runtime.settings)
    async with db.transaction(runtime.sessions) as session:
        # The deciding columns only: whole cases, as ORM objects, cost a batch more than it
        # saves. Purged ones are left out here, not in SQL: SQLite would walk the purge day's
        # index (nearly every case has none) instead of finding the batch by id.
        rows = await session.exec(
            select(*_CANDIDATE_COLUMNS, Case.purged_on)
            .where(col(Case.id).in_(case_ids))
            .with_for_update()
        )
        found = [Candidate(*row[:-1]) for row in rows.all() if row[-1] is None]
        order = {case_id: number for number, case_id in enumerate(case_ids)}
        due = [
            case
            for case in sorted(found, key=lambda case: order[case.id])
            if not case.legal_hold
            and (day := policy.delete_from(case)) is not None
            and day <= today
        ]
        if due:
            await shred_cases(session, runtime, due, today=today, actor=actor)
    return [case.ref for case in due]


async def _notify_one(runtime: Runtime, case_id: str, *, today: date) -> bool:
    async with db.transaction(runtime.sessions) as session:
        case = (
            await session.exec(select(Case).where(Case.id == case_id).with_for_update())
        ).first()
        if case is None or case.deletion_notice_on is not None or case.purged_on is not None:
            return False
        case.deletion_notice_on = today
        session.add(case)
        # The outbox's content-free notice to every active key holder, in this transaction.
        await mail.queue_case_notice(session, runtime, case.id)
    return True


async def run(
    runtime: Runtime,
    *,
    today: date | None = None,
    dry_run: bool = False,
    actor: str = "system",
    pause_share: float = PAUSE_SHARE_ALONE,
) -> PurgeReport:
    """Send due deletion notices and destroy the cases whose time has come.

    Cases are destroyed in batches of at most ``PURGE_BATCH``, a transaction each. On SQLite,
    whose write lock every writer shares, batches are sized to hold it about ``BATCH_SECONDS``,
    with a pause of ``pause_share`` times the batch's time between them: reporters filing
    meanwhile wait for one short batch at most (docs/performance.md measures it).
    """
    today = today or runtime.today()
    policy = RetentionPolicy.from_settings(runtime.settings)
    report = PurgeReport(today=today, dry_run=dry_run)
    async with runtime.sessions() as session:
        candidates = await _candidates(session)
    due: list[tuple[str, str]] = []
    for case in candidates:
        notice_from = policy.notice_from(case)
        if notice_from is None:
            continue
        if case.legal_hold:
            if notice_from <= today:
                report.held.append(case.ref)
            continue
        if case.deletion_notice_on is None:
            if notice_from > today:
                continue
            if dry_run or await _notify_one(runtime, case.id, today=today):
                report.noticed.append(case.ref)
                case.deletion_notice_on = today
        deletion = policy.delete_from(case)
        if deletion is None:
            continue
        if deletion > today:
            report.waiting.append((case.ref, deletion))
        else:
            due.append((case.id, case.ref))
    del candidates
    if dry_run:
        report.purged = [ref for _id, ref in due]
        return report
    # PostgreSQL locks rows, not the database: a batch makes no reporter wait, so batches are
    # never shrunk and the pauses are short. Timing them would be wrong there too: inside
    # `serve`, a batch's every statement waits its turn behind the reporters' requests on the
    # event loop, and sizing batches by that time shrank them to one case (30 cases a second).
    shared_lock = runtime.settings.is_sqlite
    size, start = min(10, PURGE_BATCH) if shared_lock else PURGE_BATCH, 0
    while start < len(due):
        batch = [case_id for case_id, _ref in due[start : start + size]]
        started = time.monotonic()
        report.purged += await _purge_batch(runtime, batch, today=today, actor=actor)
        took = time.monotonic() - started
        start += len(batch)
        if not shared_lock:
            await asyncio.sleep(PAUSE_BETWEEN_BATCHES)
            continue
        per_case = took / len(batch)
        size = max(1, min(PURGE_BATCH, int(BATCH_SECONDS / per_case) if per_case else PURGE_BATCH))
        if start < len(due):
            await asyncio.sleep(max(PAUSE_BETWEEN_BATCHES, pause_share * took))
    # The one-time values of forms sent up to the day before yesterday (once.py).
    await once.forget_spent(runtime, today=today)
    if report.purged:
        report.wal_truncated = await reclaim_space(runtime)
    return report


async def reclaim_space(runtime: Runtime) -> bool:
    """Push deleted pages out of the places they linger after a purge.

    SQLite (``secure_delete=ON``) zeroes deleted content in the database file,
    but earlier versions of those pages stay in the write-ahead log until it is
    checkpointed: a TRUNCATE checkpoint copies the log back and empties it.
    PostgreSQL keeps deleted rows as dead tuples until VACUUM marks their space
    for reuse (it does not zero them; see SECURITY.md). Returns False when the
    SQLite log could not be emptied because readers were active.
    """
    if runtime.settings.is_sqlite:
        async with runtime.engine.connect() as connection:
            row = (await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")).one()
        return int(row[0]) == 0
    async with runtime.engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        for table in SHREDDED_TABLES:
            exists = await autocommit.execute(text("SELECT to_regclass(:name)"), {"name": table})
            if exists.scalar() is not None:
                await autocommit.execute(text(f"VACUUM {table}"))
    return True
