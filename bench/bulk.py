"""Filling a benchmark database fast: many cases, and extra staff accounts, by bulk inserts.

The queue benchmark needs 100,000 cases. Filing them through the API would
take the better part of an hour here, so they go straight into the tables in
large batches. What the queue reads (reference, category, stage, days, due
dates, who holds a key) is filled as the service would fill it. What it never
reads is not real: each key-holder row carries random bytes of a sealed key's
length (it opens for no one), and bulk cases have no report text and no
reporter token. Cases opened in a benchmark are filed through the API.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import sqlite3
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import insert, select

import crypto
from intake.casework import records
from intake.casework.vocabulary import Outcome, Role, Stage
from intake.config import Settings
from intake.storage import db
from intake.storage.models import Case, CaseKey, RecoveryKey, Staff

CASE_TABLE = Case.__table__  # type: ignore[attr-defined]
CASEKEY_TABLE = CaseKey.__table__  # type: ignore[attr-defined]
STAFF_TABLE = Staff.__table__  # type: ignore[attr-defined]
RECOVERY_TABLE = RecoveryKey.__table__  # type: ignore[attr-defined]
# Plain strings (the stored values), as the bulk insert writes them.
STAGES = tuple(stage.value for stage in Stage)
OUTCOMES = tuple(outcome.value for outcome in Outcome)
CATEGORIES = ("financial", "social-media", "conduct", "safety", "other")


def _sealed_length() -> int:
    public = crypto.generate_keypair().public
    return len(crypto.seal(crypto.new_data_key(), public, case_id="0" * 32, purpose="case-key"))


def _column_defaults() -> dict[str, Any]:
    """Every column of a new case with the model's defaults (so new columns are covered)."""
    template = Case(
        ref="QL-00000-00000",
        category="other",
        group_name="solicitor",
        received_on=date.today(),
        ack_due=date.today(),
        lookup=b"",
        salt=b"",
    )
    return {column.name: getattr(template, column.name) for column in CASE_TABLE.columns}


def _case_rows(count: int, today: date, group: str, seed: int) -> list[dict[str, Any]]:
    """``count`` cases received over the last three years, none of them today."""
    rng = random.Random(seed)
    defaults = _column_defaults()
    refs: set[str] = set()
    rows = []
    for _ in range(count):
        # Bench data, not secrets: a seeded generator is fast and repeatable.
        ref = ""
        while not ref or ref in refs:
            chars = "".join(rng.choices(records.REF_ALPHABET, k=10))
            ref = f"QL-{chars[:5]}-{chars[5:]}"
        refs.add(ref)
        received = today - timedelta(days=rng.randint(1, 3 * 365))
        stage = rng.choice(STAGES)
        acknowledged = received + timedelta(days=rng.randint(1, 7)) if stage != STAGES[0] else None
        concluded = (
            received + timedelta(days=rng.randint(30, 200)) if stage == Stage.CONCLUDED else None
        )
        rows.append(
            {
                **defaults,
                "id": rng.randbytes(16).hex(),
                "ref": ref,
                "category": rng.choice(CATEGORIES),
                "group_name": group,
                "stage": stage,
                "outcome": rng.choice(OUTCOMES) if concluded else None,
                "received_on": received,
                "acknowledged_on": acknowledged,
                "concluded_on": concluded,
                "ack_due": received + timedelta(days=7),
                "feedback_due": acknowledged + timedelta(days=90) if acknowledged else None,
                # The next deadline: acknowledgement, then feedback; none once concluded.
                "next_due": (
                    None
                    if concluded
                    else (
                        acknowledged + timedelta(days=90)
                        if acknowledged
                        else received + timedelta(days=7)
                    )
                ),
                "lookup": rng.randbytes(32),
                "salt": rng.randbytes(16),
                "reporter_wrap": None,
                "next_seq": 2,
            }
        )
    return rows


def _sqlite_value(value: Any) -> Any:
    """What SQLAlchemy's SQLite dialect stores: ISO days, UTC times with a space, 0/1 for
    booleans."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def _insert_sqlite(path: str, table: Any, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    connection = sqlite3.connect(path, timeout=30)
    try:
        connection.execute("PRAGMA busy_timeout=30000")
        # Random keys touch every index page: with the default 2 MB page cache each batch
        # rereads its indexes from disk.
        connection.execute("PRAGMA cache_size=-262144")
        marks = ", ".join("?" for _ in columns)
        names = ", ".join(f'"{name}"' for name in columns)
        with connection:
            connection.executemany(
                f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})',
                ([_sqlite_value(value) for value in row] for row in rows),
            )
    finally:
        connection.close()


async def insert_rows(
    settings: Settings, table: Any, columns: list[str], rows: list[tuple[Any, ...]]
) -> None:
    """Bulk insert by the engine's fastest path: executemany in one SQLite transaction, or
    PostgreSQL's COPY."""
    if settings.is_sqlite:
        path = settings.database_url.split(":///", 1)[1]
        await asyncio.to_thread(_insert_sqlite, path, table, columns, rows)
        return
    dsn = settings.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.copy_records_to_table(table.name, records=rows, columns=columns)
    finally:
        await connection.close()


async def add_cases(
    settings: Settings, count: int, *, today: date, batch: int = 100_000, seed: int = 9
) -> int:
    """Insert ``count`` cases, each held by every active officer of the default group and
    the active recovery key. Returns how many key-holder rows were written."""
    engine = db.create_engine(settings)
    try:
        async with engine.connect() as connection:
            officers = (
                (
                    await connection.execute(
                        select(STAFF_TABLE.c.id)
                        .where(STAFF_TABLE.c.group_name == settings.default_group)
                        .where(STAFF_TABLE.c.role == Role.OFFICER.value)
                        .where(STAFF_TABLE.c.active)
                    )
                )
                .scalars()
                .all()
            )
            # A recovery-key row to refer to (one per group since the ceremony; any will do
            # for reading the queue, which never opens the recovery copies).
            recovery_id = (
                await connection.execute(
                    select(RECOVERY_TABLE.c.id).order_by(RECOVERY_TABLE.c.id).limit(1)
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    sealed_length = _sealed_length()
    filler = random.Random(seed)
    case_columns = [column.name for column in CASE_TABLE.columns]
    key_columns = ["id", "case_id", "staff_id", "recovery_key_id", "received_on", "sealed"]
    holders = [(officer, None) for officer in officers] + [(None, recovery_id)]
    written = 0
    for start in range(0, count, batch):
        rows = _case_rows(min(batch, count - start), today, settings.default_group, seed + start)
        keys = [
            (
                filler.randbytes(16).hex(),
                row["id"],
                staff_id,
                recovery_key_id,
                row["received_on"],
                filler.randbytes(sealed_length),
            )
            for row in rows
            for staff_id, recovery_key_id in holders
        ]
        await insert_rows(
            settings,
            CASE_TABLE,
            case_columns,
            [tuple(row[c] for c in case_columns) for row in rows],
        )
        await insert_rows(settings, CASEKEY_TABLE, key_columns, keys)
        written += len(keys)
    return written


async def clone_staff(
    settings: Settings, *, like_email: str, count: int, role: str = Role.INVESTIGATOR.value
) -> list[str]:
    """``count`` accounts sharing one seeded account's credential (so its password and TOTP
    secret), each with its own id and email; returns the emails.

    A sign-in spends the account's current TOTP step, so a stream of sign-ins in one
    30-second step needs a fresh account for each. Investigators receive no new reports,
    so these accounts change nothing in submission sealing.
    """
    engine = db.create_engine(settings)
    emails = [f"signin-{index}-{secrets.token_hex(3)}@bench.example" for index in range(count)]
    try:
        async with engine.begin() as connection:
            template = (
                (
                    await connection.execute(
                        select(STAFF_TABLE).where(STAFF_TABLE.c.email == like_email)
                    )
                )
                .one()
                ._asdict()
            )
            rows = [
                {
                    **template,
                    "id": secrets.token_hex(16),
                    "email": email,
                    "name": f"Sign-in {index}",
                    "role": role,
                    "exclusion_label": None,
                }
                for index, email in enumerate(emails)
            ]
            await connection.execute(insert(STAFF_TABLE), rows)
    finally:
        await engine.dispose()
    return emails
