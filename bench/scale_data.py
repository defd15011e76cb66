"""Filling a scaling benchmark's database: what ``bench.bulk.add_cases`` does not add.

Each bulk case gets its report (an entry of ciphertext's length, random bytes: it opens for no
one), one case in ten a short exchange of messages; the audit log gets a year of staff events,
chained with the instance's own audit key so that ``quietline audit verify`` walks and checks a
real chain; some concluded cases are made expired, for a retention run to delete; and one case
gets attachments of a given total size, for backup and restore.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from bench.bulk import CASE_TABLE, add_cases, insert_rows
from intake.casework.vocabulary import Author, EntryKind, Stage
from intake.config import Settings
from intake.operations import audit
from intake.runtime import open_runtime
from intake.storage import db
from intake.storage.models import Attachment, AttachmentChunk, AuditEvent, Entry

ENTRY_TABLE = Entry.__table__  # type: ignore[attr-defined]
AUDIT_TABLE = AuditEvent.__table__  # type: ignore[attr-defined]
ATTACHMENT_TABLE = Attachment.__table__  # type: ignore[attr-defined]
CHUNK_TABLE = AttachmentChunk.__table__  # type: ignore[attr-defined]
REPORT_BYTES = 2_100  # a 2 KB report's ciphertext
MESSAGE_BYTES = 450
BATCH = 50_000
AUDIT_ACTIONS = ("case.viewed", "case.stage_changed", "case.message_sent", "case.note_added")


async def _case_ids(settings: Settings) -> list[tuple[str, str, date]]:
    engine = db.create_engine(settings)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(CASE_TABLE.c.id, CASE_TABLE.c.ref, CASE_TABLE.c.received_on).order_by(
                    CASE_TABLE.c.id
                )
            )
            return [(row[0], row[1], row[2]) for row in rows]
    finally:
        await engine.dispose()


async def add_entries(
    settings: Settings, *, seed: int = 11, report_bytes: int = REPORT_BYTES
) -> int:
    """A report for every case without entries, and three messages on one case in ten.
    (``report_bytes`` smaller than a report's makes a quicker build of as many rows.)"""
    rng = random.Random(seed)
    cases = await _case_ids(settings)
    columns = ["id", "case_id", "seq", "position", "kind", "author", "staff_id", "on", "body"]
    written = 0
    rows: list[tuple[Any, ...]] = []
    for number, (case_id, _ref, received) in enumerate(cases):
        rows.append(_entry(rng, case_id, received, EntryKind.REPORT, Author.REPORTER, report_bytes))
        if number % 10 == 0:
            for author in (Author.REPORTER, Author.OFFICE, Author.REPORTER):
                size = min(MESSAGE_BYTES, report_bytes)
                rows.append(_entry(rng, case_id, received, EntryKind.MESSAGE, author, size))
        if len(rows) >= BATCH:
            await insert_rows(settings, ENTRY_TABLE, columns, rows)
            written, rows = written + len(rows), []
    if rows:
        await insert_rows(settings, ENTRY_TABLE, columns, rows)
        written += len(rows)
    return written


async def mark_first_replies(settings: Settings) -> None:
    """Each case's day of the office's first message, as the app writes it with the message
    (the statistics read it)."""
    first = (
        select(func.min(ENTRY_TABLE.c.on))
        .where(ENTRY_TABLE.c.case_id == CASE_TABLE.c.id)
        .where(ENTRY_TABLE.c.kind == str(EntryKind.MESSAGE))
        .where(ENTRY_TABLE.c.author == str(Author.OFFICE))
        .scalar_subquery()
    )
    engine = db.create_engine(settings)
    try:
        async with engine.begin() as connection:
            answered = select(ENTRY_TABLE.c.case_id).where(
                ENTRY_TABLE.c.kind == str(EntryKind.MESSAGE),
                ENTRY_TABLE.c.author == str(Author.OFFICE),
            )
            await connection.execute(
                update(CASE_TABLE)
                .where(CASE_TABLE.c.first_reply_on.is_(None), CASE_TABLE.c.id.in_(answered))
                .values(first_reply_on=first)
            )
    finally:
        await engine.dispose()


def _entry(
    rng: random.Random, case_id: str, day: date, kind: str, author: str, size: int
) -> tuple[Any, ...]:
    return (
        rng.randbytes(16).hex(),
        case_id,
        rng.getrandbits(31),
        rng.randbytes(40),
        str(kind),
        str(author),
        None,
        day,
        rng.randbytes(size),
    )


@dataclass
class _Event:
    """What the audit chain's link covers (the attributes ``audit.link_of`` reads)."""

    seq: int
    at: datetime
    actor: str
    action: str
    case_ref: str | None
    detail: str
    prev_hash: str
    key_id: str
    hash: str = ""


async def add_audit_events(environ: dict[str, str], count: int, *, seed: int = 13) -> int:
    """``count`` staff events over the last year, after the log's last event, each linked with
    the instance's audit MAC key; then a signed checkpoint of the new head."""
    from bench.seed import OFFICERS  # the seeded officers are the actors

    settings = _settings(environ)
    runtime = open_runtime(settings)
    try:
        anchors = runtime.audit
        assert anchors is not None, "the instance has no audit keys"
        key_id, key = anchors.secrets.current
        async with runtime.sessions() as session:
            last = (
                await session.exec(  # type: ignore[call-overload]
                    select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
                )
            ).first()
        seq, previous = (last[0], last[1]) if last else (0, audit.GENESIS)
        refs = [ref for _id, ref, _day in await _case_ids(settings)] or [None]
        rng = random.Random(seed)
        start = datetime.now(UTC) - timedelta(days=365)
        step = timedelta(days=365) / max(count, 1)
        columns = ["seq", "at", "actor", "action", "case_ref", "detail", "prev_hash", "hash"]
        columns.append("key_id")
        rows: list[tuple[Any, ...]] = []
        for number in range(count):
            seq += 1
            event = _Event(
                seq=seq,
                at=(start + step * number).replace(microsecond=rng.randrange(1_000_000)),
                actor=rng.choice(OFFICERS)[0],
                action=rng.choice(AUDIT_ACTIONS),
                case_ref=rng.choice(refs),
                detail=json.dumps({}, separators=(",", ":")),
                prev_hash=previous,
                key_id=key_id,
            )
            event.hash = previous = audit.link_of(event, key)  # type: ignore[arg-type]
            rows.append(tuple(getattr(event, name) for name in columns))
            if len(rows) >= BATCH:
                await insert_rows(settings, AUDIT_TABLE, columns, rows)
                rows = []
        if rows:
            await insert_rows(settings, AUDIT_TABLE, columns, rows)
        await audit.checkpoint_now(runtime)
    finally:
        await runtime.close()
    return count


def _settings(environ: dict[str, str]) -> Settings:
    from intake.config import load_settings

    return load_settings(environ)


async def expire_cases(settings: Settings, count: int, *, today: date) -> int:
    """Make ``count`` cases concluded long enough ago, and announced, that retention deletes
    them on its next run."""
    long_ago = today - timedelta(days=12 * 365)
    engine = db.create_engine(settings)
    try:
        async with engine.begin() as connection:
            # Every other concluded case concluded last week: nothing but these is due for a
            # notice or a deletion, so the run measures the deletions alone.
            await connection.execute(
                update(CASE_TABLE)
                .where(CASE_TABLE.c.stage == Stage.CONCLUDED.value)
                .values(concluded_on=today - timedelta(days=7), deletion_notice_on=None)
            )
            ids = (
                (
                    await connection.execute(
                        select(CASE_TABLE.c.id)
                        .where(CASE_TABLE.c.purged_on.is_(None))
                        .order_by(CASE_TABLE.c.id)
                        .limit(count)
                    )
                )
                .scalars()
                .all()
            )
            for start in range(0, len(ids), 500):
                await connection.execute(
                    update(CASE_TABLE)
                    .where(CASE_TABLE.c.id.in_(ids[start : start + 500]))
                    .values(
                        stage=Stage.CONCLUDED.value,
                        outcome="no_action",
                        acknowledged_on=long_ago,
                        concluded_on=long_ago,
                        next_due=None,
                        deletion_notice_on=long_ago,
                        legal_hold=False,
                    )
                )
        return len(ids)
    finally:
        await engine.dispose()


async def add_attachments(settings: Settings, megabytes: int, *, file_mb: int = 100) -> int:
    """Attachments of ``megabytes`` in all, in files of ``file_mb``, on the first case: runs of
    random sealed chunks, about 1 MB a row (ciphertext does not compress). Returns bytes."""
    from crypto import SEALED_CHUNK_SIZE

    case_id = (await _case_ids(settings))[0][0]
    engine = db.create_engine(settings)
    try:
        async with engine.connect() as connection:
            entry_id = (
                await connection.execute(
                    select(ENTRY_TABLE.c.id).where(ENTRY_TABLE.c.case_id == case_id).limit(1)
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    row_bytes = 16 * SEALED_CHUNK_SIZE
    rows_per_file = max(1, file_mb * 1_000_000 // row_bytes)
    rows_left = max(1, megabytes * 1_000_000 // row_bytes)
    position = 0
    while rows_left:
        rows = min(rows_per_file, rows_left)
        attachment_id = os.urandom(16).hex()
        attachment = (attachment_id, case_id, entry_id, position, os.urandom(24))
        await insert_rows(
            settings,
            ATTACHMENT_TABLE,
            ["id", "case_id", "entry_id", "position", "header", "name", "details", "stored_bytes"],
            [(*attachment, os.urandom(60), os.urandom(120), 24 + rows * row_bytes)],
        )
        for start in range(0, rows, 64):
            block = [
                (attachment_id, seq, os.urandom(row_bytes))
                for seq in range(start, min(rows, start + 64))
            ]
            await insert_rows(settings, CHUNK_TABLE, ["attachment_id", "seq", "data"], block)
        rows_left -= rows
        position += 1
    return (megabytes * 1_000_000 // row_bytes) * row_bytes


async def purged_cases(settings: Settings) -> int:
    """How many cases retention has deleted (their stubs have a purge day)."""
    engine = db.create_engine(settings)
    try:
        async with engine.connect() as connection:
            return int(
                (
                    await connection.execute(
                        select(func.count())
                        .select_from(CASE_TABLE)
                        .where(CASE_TABLE.c.purged_on.is_not(None))
                    )
                ).scalar_one()
            )
    finally:
        await engine.dispose()


async def checkpoint(settings: Settings) -> None:
    """Leave the database as a running instance's housekeeping keeps it. SQLite: the
    write-ahead log empty (a build's gigabytes of log would otherwise be read by the server's
    first start). PostgreSQL: vacuumed and analysed, as autovacuum keeps tables that grew over
    years (straight after a bulk load the planner takes the tables for empty: a queue page
    filtered by stage took 320 ms instead of 13 at 100,000 cases), then checkpointed, so the
    build's dirty pages are not written out while the figures are measured.
    """
    engine = db.create_engine(settings)
    statements = (
        ["PRAGMA wal_checkpoint(TRUNCATE)"]
        if settings.is_sqlite
        else ["VACUUM ANALYZE", "CHECKPOINT"]
    )
    try:
        async with engine.connect() as connection:
            if not settings.is_sqlite:
                connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            for statement in statements:
                await connection.exec_driver_sql(statement)
    finally:
        await engine.dispose()


async def _build(args: argparse.Namespace) -> str:
    environ = json.loads(args.environ)
    settings = _settings(environ)
    today = datetime.now(UTC).date()
    if args.attachment_mb:
        stored = await add_attachments(settings, args.attachment_mb)
        await checkpoint(settings)
        return f"{stored} bytes of attachments"
    if not args.cases:
        return f"{await expire_cases(settings, args.expire, today=today)} expired"
    keys = await add_cases(settings, args.cases, today=today)
    entries = await add_entries(settings, report_bytes=args.report_bytes)
    await mark_first_replies(settings)
    events = await add_audit_events(environ, args.cases)
    expired = await expire_cases(settings, args.expire, today=today) if args.expire else 0
    await checkpoint(settings)
    return (
        f"built {args.cases:,} cases, {keys:,} key-holder rows, {entries:,} entries, "
        f"{events:,} audit events ({expired:,} expired)"
    )


def main() -> None:
    """The scaling benchmark's bulk build, run by ``bench.scale`` in a niced child process."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--environ", required=True, help="the instance's environment, as JSON")
    parser.add_argument("--cases", type=int, default=0)
    parser.add_argument("--expire", type=int, default=0)
    parser.add_argument("--report-bytes", type=int, default=REPORT_BYTES)
    parser.add_argument("--attachment-mb", type=int, default=0)
    print(asyncio.run(_build(parser.parse_args())))


if __name__ == "__main__":
    main()
