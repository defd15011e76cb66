"""The append-only, hash-chained audit log of staff actions (SECURITY.md, "Audit log").

Each event is appended in the same transaction as the action it records, so
an action and its audit line commit together or not at all. Appends are
serialised (SQLite's write lock; a PostgreSQL advisory lock) so the chain
never forks, even with several app processes. Reporter actions are never
audited.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.storage.db import utcnow
from intake.storage.models import AuditEvent

GENESIS = "0" * 64
_PG_AUDIT_LOCK = 0x51A0D17  # an arbitrary constant naming the audit chain's lock


def chain_hash(event: AuditEvent) -> str:
    """SHA-256 over the previous hash and every field of the event."""
    canonical = json.dumps(
        [
            event.prev_hash,
            event.seq,
            event.at.isoformat(timespec="microseconds"),
            event.actor,
            event.action,
            event.case_ref,
            event.detail,
        ],
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


async def record(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    case_ref: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event inside the caller's (write) transaction."""
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await connection.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_AUDIT_LOCK}
        )
    last = (
        await session.exec(select(AuditEvent).order_by(col(AuditEvent.seq).desc()).limit(1))
    ).first()
    event = AuditEvent(
        seq=last.seq + 1 if last else 1,
        at=utcnow(),
        actor=actor,
        action=action,
        case_ref=case_ref,
        detail=json.dumps(detail or {}, sort_keys=True, separators=(",", ":")),
        prev_hash=last.hash if last else GENESIS,
        hash="",
    )
    event.hash = chain_hash(event)
    session.add(event)
    await session.flush()
    return event


@dataclass(frozen=True)
class Verification:
    events: int
    broken_at: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


async def verify(session: AsyncSession, *, batch: int = 5000) -> Verification:
    """Walk the chain; report the first event that was altered, removed or reordered."""
    expected_seq, prev_hash, count = 1, GENESIS, 0
    while True:
        rows = (
            await session.exec(
                select(AuditEvent)
                .where(AuditEvent.seq >= expected_seq)
                .order_by(col(AuditEvent.seq))
                .limit(batch)
            )
        ).all()
        if not rows:
            return Verification(events=count)
        for event in rows:
            if event.seq != expected_seq:
                return Verification(count, expected_seq, f"event {expected_seq} is missing")
            if event.prev_hash != prev_hash:
                return Verification(count, event.seq, "it does not follow the event before it")
            recomputed = chain_hash(event)
            if recomputed != event.hash:
                return Verification(count, event.seq, "its content was changed")
            prev_hash, expected_seq, count = event.hash, expected_seq + 1, count + 1
