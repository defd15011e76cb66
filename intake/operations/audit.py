"""The audit log of staff actions: a keyed chain, anchored by signed checkpoints kept outside
the database (SECURITY.md, "Audit log").

Each event is appended in the same transaction as the action it records, so an action and its
audit line commit together or not at all. Appends are serialised (SQLite's write lock; a
PostgreSQL advisory lock) so the chain never forks, even with several app processes. Reporter
actions are never audited.

Each event's link (``hash``) is a MAC over the previous link and the event, under a key kept in
the server secrets and named on the event (``key_id``): a database writer without the secrets
cannot forge a link. After every event about a case, and at least hourly
(``operations.maintenance``), the head is signed into a checkpoint (``operations.checkpoints``),
stored, and appended to the witness file once the transaction commits; the witnesses are mailed
one a day (``operations.witnesses``). A rewrite by someone holding the secrets too is caught by
:func:`intake.operations.audit_verify.verify` against any copy of a checkpoint made before
it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from json.encoder import encode_basestring_ascii as _json_text
from typing import Any, Protocol

from sqlalchemy import event as sa_event
from sqlalchemy import func, text
from sqlalchemy.orm import Session
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

import crypto
from intake import datadir
from intake.operations import checkpoints
from intake.operations.checkpoints import Checkpoint
from intake.runtime import AUDIT_INFO, AuditAnchors, Runtime
from intake.storage import db
from intake.storage.db import utcnow
from intake.storage.models import AuditCheckpoint, AuditEvent

GENESIS = "0" * 64
_PG_AUDIT_LOCK = 0x51A0D17  # an arbitrary constant naming the audit chain's lock
_PENDING = "quietline.audit.pending"  # checkpoints for the witness file, once committed


class AuditKeysMissing(RuntimeError):
    """A database session made without the runtime's audit keys (a programming error)."""


class ChainedEvent(Protocol):
    """What an event's link covers: a stored event, or a row of a chain walk
    (``intake.operations.audit_verify``)."""

    @property
    def seq(self) -> int: ...
    @property
    def at(self) -> datetime: ...
    @property
    def actor(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def case_ref(self) -> str | None: ...
    @property
    def detail(self) -> str: ...
    @property
    def prev_hash(self) -> str: ...
    @property
    def key_id(self) -> str | None: ...


def chain_hash(event: ChainedEvent) -> str:
    """The unkeyed SHA-256 link of an event from before the keyed chain."""
    return hashlib.sha256(linked_content(event, keyed=False)).hexdigest()


def link_of(event: ChainedEvent, key: bytes) -> str:
    """The keyed link of an event: a MAC, under ``key``, over the previous link and the event."""
    return crypto.audit_link(key, bytes.fromhex(event.prev_hash), linked_content(event)).hex()


# json.dumps with these options, made once (dumps builds an encoder on every call otherwise).
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True).encode


def linked_content(event: ChainedEvent, *, keyed: bool = True) -> bytes:
    """The bytes an event's link covers: :func:`canonical_encoding` for a keyed link; for an
    unkeyed one (before the keyed chain), the previous link and the event as a JSON array."""
    at = event.at.isoformat(timespec="microseconds")
    if keyed:
        return canonical_encoding(
            event.seq, at, event.actor, event.action, event.case_ref, event.detail, event.key_id
        )
    fields = [event.prev_hash, event.seq, at, event.actor, event.action, event.case_ref]
    return _ENCODE([*fields, event.detail]).encode("ascii")


def canonical_encoding(
    seq: int,
    at: str,
    actor: str,
    action: str,
    case_ref: str | None,
    detail: str,
    key_id: str | None,
) -> bytes:
    """What a keyed link covers: the event's fields as a compact ASCII JSON array, its time as
    ISO 8601 text in UTC.

    Written field by field with the string encoder ``json`` itself uses: the very bytes of
    ``json.dumps([...], separators=(",", ":"))`` (a property test holds them equal), at less
    than half the cost, which a chain walk pays for every event.
    """
    return (
        f"[{seq:d},{_json_text(at)},{_json_text(actor)},{_json_text(action)},"
        f"{'null' if case_ref is None else _json_text(case_ref)},{_json_text(detail)},"
        f"{'null' if key_id is None else _json_text(key_id)}]"
    ).encode("ascii")


def anchors_of(session: AsyncSession) -> AuditAnchors:
    anchors = session.info.get(AUDIT_INFO)
    if not isinstance(anchors, AuditAnchors):
        raise AuditKeysMissing("this database session was not made by a runtime with audit keys")
    return anchors


async def _lock_chain(session: AsyncSession) -> None:
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await connection.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_AUDIT_LOCK}
        )


async def _last_event(session: AsyncSession) -> AuditEvent | None:
    return (
        await session.exec(select(AuditEvent).order_by(col(AuditEvent.seq).desc()).limit(1))
    ).first()


async def record(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    case_ref: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event inside the caller's (write) transaction; checkpoint an event about a case."""
    anchors = anchors_of(session)
    await _lock_chain(session)
    last = await _last_event(session)
    key_id, key = anchors.secrets.current
    event = AuditEvent(
        seq=last.seq + 1 if last else 1,
        at=utcnow(),
        actor=actor,
        action=action,
        case_ref=case_ref,
        detail=json.dumps(detail or {}, sort_keys=True, separators=(",", ":")),
        prev_hash=last.hash if last else GENESIS,
        hash="",
        key_id=key_id,
    )
    event.hash = link_of(event, key)
    session.add(event)
    if case_ref is not None:
        _add_checkpoint(session, anchors, count=event.seq, head=event.hash, key_id=key_id)
    await session.flush()
    return event


async def record_about_cases(
    session: AsyncSession, *, actor: str, action: str, details: Sequence[tuple[str, dict[str, Any]]]
) -> list[AuditEvent]:
    """Append one event per case (``details``: case reference and detail) inside the caller's
    write transaction, reading the chain's head once, and sign one checkpoint after the last:
    it anchors every one of them, which commit together. (For a purge batch.)"""
    if not details:
        return []
    anchors = anchors_of(session)
    await _lock_chain(session)
    last = await _last_event(session)
    key_id, key = anchors.secrets.current
    seq, previous = (last.seq, last.hash) if last else (0, GENESIS)
    events = []
    for case_ref, detail in details:
        seq += 1
        event = AuditEvent(
            seq=seq,
            at=utcnow(),
            actor=actor,
            action=action,
            case_ref=case_ref,
            detail=json.dumps(detail, sort_keys=True, separators=(",", ":")),
            prev_hash=previous,
            hash="",
            key_id=key_id,
        )
        event.hash = previous = link_of(event, key)
        events.append(event)
    session.add_all(events)
    _add_checkpoint(session, anchors, count=seq, head=previous, key_id=key_id)
    await session.flush()
    return events


def _add_checkpoint(
    session: AsyncSession, anchors: AuditAnchors, *, count: int, head: str, key_id: str
) -> Checkpoint:
    """Sign the head, store it, and have it appended to the witness file after the commit."""
    made = checkpoints.make(
        anchors.secrets.signing_key, count=count, head=head, at=utcnow(), key_id=key_id
    )
    session.add(
        AuditCheckpoint(
            count=made.count, head=made.head, at=made.at, key_id=made.key_id, text=made.text()
        )
    )
    if anchors.witness_file is not None:
        pending = session.info.get(_PENDING)
        if pending is None:
            pending = session.info[_PENDING] = []
            sync_session = session.sync_session
            sa_event.listen(sync_session, "after_commit", _write_pending)
            sa_event.listen(sync_session, "after_rollback", _drop_pending)
        pending.append(made)
    return made


def _write_pending(sync_session: Session) -> None:
    """After the commit: the checkpoints of what committed go to the witness file, appended and
    synced by the writer thread so that the request does not wait for the disk."""
    pending: list[Checkpoint] = sync_session.info.get(_PENDING) or []
    anchors = sync_session.info.get(AUDIT_INFO)
    if pending and isinstance(anchors, AuditAnchors) and anchors.witness_file is not None:
        checkpoints.append_later(anchors.witness_file, pending)
    pending.clear()


def _drop_pending(sync_session: Session) -> None:
    pending = sync_session.info.get(_PENDING)
    if pending:
        pending.clear()


async def checkpoint_now(runtime: Runtime) -> Checkpoint:
    """Sign the chain's head now (the hourly checkpoint, ``quietline audit checkpoint``)."""
    async with db.transaction(runtime.sessions) as session:
        made = await add_checkpoint_now(session)
    await checkpoints.written()
    return made


async def add_checkpoint_now(session: AsyncSession) -> Checkpoint:
    """Sign the chain's head inside the caller's write transaction."""
    anchors = anchors_of(session)
    await _lock_chain(session)
    last = await _last_event(session)
    return _add_checkpoint(
        session,
        anchors,
        count=last.seq if last else 0,
        head=last.hash if last else GENESIS,
        key_id=anchors.secrets.current[0],
    )


async def note_unkeyed_prefix(runtime: Runtime) -> None:
    """On the first start with audit keys, record outside the database how many events the
    log holds from before the keyed chain (none on a new instance)."""
    anchors = runtime.audit
    if anchors is None or anchors.unkeyed_events is not None:
        return
    async with runtime.sessions() as session:
        count = (
            await session.exec(
                select(func.count()).select_from(AuditEvent).where(col(AuditEvent.key_id).is_(None))
            )
        ).one()
    anchors.unkeyed_events = datadir.note_unkeyed_events(runtime.settings, int(count))
