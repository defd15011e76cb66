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

import os
import random
import secrets
from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert, select

import crypto
from intake import cases, db
from intake.config import Settings
from intake.models import Case, CaseKey, RecoveryKey, Staff

CASE_TABLE = Case.__table__  # type: ignore[attr-defined]
CASEKEY_TABLE = CaseKey.__table__  # type: ignore[attr-defined]
STAFF_TABLE = Staff.__table__  # type: ignore[attr-defined]
RECOVERY_TABLE = RecoveryKey.__table__  # type: ignore[attr-defined]
STAGES = ("received", "acknowledged", "assessing", "investigating", "concluded")
OUTCOMES = ("substantiated", "not_substantiated", "referred", "no_action")
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
        ref = cases.new_ref()
        while ref in refs:
            ref = cases.new_ref()
        refs.add(ref)
        received = today - timedelta(days=rng.randint(1, 3 * 365))
        stage = rng.choice(STAGES)
        acknowledged = received + timedelta(days=rng.randint(1, 7)) if stage != STAGES[0] else None
        concluded = (
            received + timedelta(days=rng.randint(30, 200)) if stage == "concluded" else None
        )
        rows.append(
            {
                **defaults,
                "id": secrets.token_hex(16),
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
                "lookup": os.urandom(32),
                "salt": os.urandom(16),
                "reporter_wrap": None,
                "next_seq": 2,
            }
        )
    return rows


async def add_cases(
    settings: Settings, count: int, *, today: date, batch: int = 5000, seed: int = 9
) -> int:
    """Insert ``count`` cases, each held by every active officer of the default group and
    the active recovery key. Returns how many key-holder rows were written."""
    engine = db.create_engine(settings)
    sealed_length = _sealed_length()
    written = 0
    try:
        async with engine.connect() as connection:
            officers = (
                (
                    await connection.execute(
                        select(STAFF_TABLE.c.id)
                        .where(STAFF_TABLE.c.group_name == settings.default_group)
                        .where(STAFF_TABLE.c.role == "officer")
                        .where(STAFF_TABLE.c.active)
                    )
                )
                .scalars()
                .all()
            )
            recovery_id = (
                await connection.execute(select(RECOVERY_TABLE.c.id).where(RECOVERY_TABLE.c.active))
            ).scalar_one()
        for start in range(0, count, batch):
            rows = _case_rows(
                min(batch, count - start), today, settings.default_group, seed + start
            )
            keys = [
                {
                    "case_id": row["id"],
                    "staff_id": holder,
                    "recovery_key_id": None,
                    "sealed": os.urandom(sealed_length),
                }
                for row in rows
                for holder in officers
            ] + [
                {
                    "case_id": row["id"],
                    "staff_id": None,
                    "recovery_key_id": recovery_id,
                    "sealed": os.urandom(sealed_length),
                }
                for row in rows
            ]
            async with engine.begin() as connection:
                await connection.execute(insert(CASE_TABLE), rows)
                await connection.execute(insert(CASEKEY_TABLE), keys)
            written += len(keys)
    finally:
        await engine.dispose()
    return written


async def clone_staff(
    settings: Settings, *, like_email: str, count: int, role: str = "investigator"
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
