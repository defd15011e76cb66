"""Verifying the audit log: every link walked, every signed checkpoint held against it.

A checkpoint (``intake.operations.checkpoints``) signs the chain's head at a count of events;
copies are kept in the database, in the witness file and in the witnesses' mail. :func:`verify`
walks the chain from its start, checking each event's link under the key it names, and holds
every checkpoint whose signature holds against the head the walk found at its count: a rewrite
by someone who also held the server's secrets is caught by any copy made before it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

import crypto
from intake.operations import checkpoints
from intake.operations.audit import (
    GENESIS,
    anchors_of,
    canonical_encoding,
    chain_hash,
    linked_content,
)
from intake.operations.checkpoints import Checkpoint
from intake.runtime import AuditAnchors
from intake.storage.models import AuditCheckpoint, AuditEvent
from intake.storage.sql_dates import stored_time_text

WITNESS_SOURCE = "the witness file"
DATABASE_SOURCE = "the database"

# What a chain walk reads of each event: the columns its link covers, not whole objects. The
# time is read as text (SQLite's own, PostgreSQL's ISO 8601 in UTC) and rearranged by
# :func:`_iso`; parsing a datetime and writing it again cost more than the link's MAC.
_LINKED_COLUMNS = (
    AuditEvent.seq,
    stored_time_text(AuditEvent.at),
    AuditEvent.actor,
    AuditEvent.action,
    AuditEvent.case_ref,
    AuditEvent.detail,
    AuditEvent.prev_hash,
    AuditEvent.hash,
    AuditEvent.key_id,
)


class _Linked(NamedTuple):
    """An event as the chain walk reads it: what its link covers."""

    seq: int
    at: datetime
    actor: str
    action: str
    case_ref: str | None
    detail: str
    prev_hash: str
    hash: str
    key_id: str | None


def _moment(stored: datetime | str) -> datetime:
    """A stored time, as the UTC datetime the column type reads (intake/storage/db.py)."""
    moment = stored if isinstance(stored, datetime) else datetime.fromisoformat(stored)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _iso(stored: datetime | str) -> str:
    """A stored time as :func:`~intake.operations.audit.linked_content` writes it, from what the
    walk reads (:class:`~intake.storage.sql_dates.stored_time_text`). PostgreSQL's text is that
    already; SQLite's (``YYYY-MM-DD HH:MM:SS.ffffff``, always UTC, always with microseconds, as
    the column type writes it) is rearranged without being parsed; anything else goes through
    :func:`_moment`."""
    if isinstance(stored, str):
        if len(stored) == 32 and stored[10] == "T" and stored.endswith("+00:00"):
            return stored
        if len(stored) == 26 and stored[10] == " ":
            return f"{stored[:10]}T{stored[11:]}+00:00"
    return _moment(stored).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Verification:
    """What ``verify`` found: ``broken_at`` is the first event that differs, ``reason`` says
    how, and ``proof`` which checkpoint (or which link) shows it."""

    events: int
    broken_at: int | None = None
    reason: str = ""
    proof: str = ""
    checkpoints: int = 0  # signed copies held against the chain, from every source
    legacy: int = 0  # events from before the keyed chain, checked as an unkeyed chain only
    problems: tuple[str, ...] = field(default_factory=tuple)  # checkpoints that do not hold
    sources: tuple[tuple[str, int], ...] = ()  # where the signed checkpoints were read, how many
    warnings: tuple[str, ...] = ()  # what weakens the check without proving a change

    @property
    def ok(self) -> bool:
        return self.broken_at is None and not self.problems


@dataclass(frozen=True)
class _Finding:
    broken_at: int
    reason: str
    proof: str
    precision: int  # how many events the finding leaves in doubt (0: exactly this one)


async def stored_checkpoints(session: AsyncSession) -> list[Checkpoint]:
    """The checkpoints in the database, read back from their text."""
    texts = (await session.exec(select(AuditCheckpoint.text))).all()
    found, _ = checkpoints.parse("".join(texts), DATABASE_SOURCE)
    return found


async def verify(
    session: AsyncSession,
    *,
    given: Sequence[Checkpoint] = (),
    batch: int = 5000,
    signing_public: bytes | None = None,
) -> Verification:
    """Check every link and every checkpoint; hold the log against the database's checkpoints,
    the witness file's and ``given`` (pasted witness emails).

    Reports the first event that was altered, removed, reordered or cut off, and which link or
    checkpoint proves it. A checkpoint whose signature does not hold under the audit signing
    key (``signing_public``, by default the server's) is a problem of its own.
    """
    anchors = anchors_of(session)
    public = signing_public or anchors.secrets.signing_public
    await checkpoints.written()  # this process's own, still on their way to the witness file
    known: list[Checkpoint] = [*await stored_checkpoints(session), *given]
    warnings: list[str] = []
    if anchors.witness_file is not None:
        in_file, unreadable = checkpoints.read_file(anchors.witness_file, WITNESS_SOURCE)
        known.extend(in_file)
        warnings.extend(
            f"checkpoint {block.number} of the witness file could not be read (cut short or "
            "altered); it is left out"
            for block in unreadable
        )
        if not in_file and known:
            warnings.append(
                f"the witness file ({anchors.witness_file}) holds no checkpoint: it was moved, "
                "emptied or never written, so it anchors nothing"
            )
    problems: list[str] = []
    trusted: list[Checkpoint] = []
    for checkpoint in known:
        if checkpoint.signature_holds(public):
            trusted.append(checkpoint)
        else:
            problems.append(
                f"a checkpoint in {checkpoint.source} (count {checkpoint.count}, "
                f"{checkpoint.time_text}) is not signed by this instance's audit key"
            )
    wanted = {checkpoint.count for checkpoint in trusted}
    walk = await _walk(session, anchors, wanted, batch)
    findings = [*_held_against(walk, trusted)]
    if walk.broken is not None:
        findings.append(walk.broken)
    first = min(findings, key=lambda f: (f.broken_at, f.precision), default=None)
    sources: dict[str, int] = {}
    for checkpoint in trusted:
        sources[checkpoint.source] = sources.get(checkpoint.source, 0) + 1
    return Verification(
        events=walk.count if first is None else min(walk.count, first.broken_at - 1),
        broken_at=first.broken_at if first else None,
        reason=first.reason if first else "",
        proof=first.proof if first else "",
        checkpoints=len(trusted),
        legacy=walk.legacy,
        problems=tuple(problems),
        sources=tuple(sources.items()),
        warnings=tuple(warnings),
    )


@dataclass
class _Walk:
    count: int = 0
    legacy: int = 0
    heads: dict[int, str] = field(default_factory=dict)
    broken: _Finding | None = None
    linkers: dict[str, Callable[[bytes, bytes], bytes]] = field(default_factory=dict)


async def _linked_rows(session: AsyncSession, batch: int) -> AsyncIterator[list[Any]]:
    """The events in order, ``batch`` at a time, as the driver's rows (making SQLAlchemy rows
    of them cost more than reading them).

    The next batch is asked for before this one is handed over, so the database reads and
    sends it while the walk checks this one's links: on two cores, the two overlap.
    """
    connection = await session.connection()

    async def read(first: int) -> list[Any]:
        result = await connection.execute(
            sa_select(*_LINKED_COLUMNS)
            .where(AuditEvent.seq >= first)
            .order_by(col(AuditEvent.seq))
            .limit(batch)
        )
        rows: list[Any] = result.cursor.fetchall()
        result.close()
        return rows

    pending = asyncio.ensure_future(read(1))
    try:
        while rows := await pending:
            if len(rows) < batch:
                yield rows
                return
            pending = asyncio.ensure_future(read(rows[-1][0] + 1))
            await asyncio.sleep(0)  # the next query goes out before the walk holds the loop
            yield rows
    finally:
        # A walk that stopped early: the connection is free once the read asked for is done.
        if not pending.done():
            with contextlib.suppress(Exception):
                await pending


async def _walk(
    session: AsyncSession, anchors: AuditAnchors, wanted: set[int], batch: int
) -> _Walk:
    """Walk the chain from the start, checking each link; note the heads checkpoints name."""
    async with contextlib.aclosing(_linked_rows(session, batch)) as batches:
        return await _walk_batches(batches, anchors, wanted)


async def _walk_batches(
    batches: AsyncIterator[list[Any]], anchors: AuditAnchors, wanted: set[int]
) -> _Walk:
    walk = _Walk(heads={0: GENESIS})
    expected_seq, prev_hash = 1, GENESIS
    async for rows in batches:
        linkers = walk.linkers
        for row in rows:
            seq, stored_at, actor, action, case_ref, detail, previous, stored_hash, key_id = row
            link = linkers.get(key_id) if key_id is not None else None
            if link is None or seq != expected_seq or previous != prev_hash:
                # Anything but the next keyed event under a key already in use: the full check,
                # which names each problem (and takes up a new key, or an unkeyed event).
                event = _Linked(
                    seq,
                    _moment(stored_at),
                    actor,
                    action,
                    case_ref,
                    detail,
                    previous,
                    stored_hash,
                    key_id,
                )
                problem = _check_link(event, expected_seq, prev_hash, walk, anchors)
            else:
                canonical = canonical_encoding(
                    seq, _iso(stored_at), actor, action, case_ref, detail, key_id
                )
                recomputed = link(bytes.fromhex(previous), canonical).hex()
                problem = (
                    None
                    if hmac.compare_digest(recomputed, stored_hash)
                    else (seq, "its content was changed (its MAC does not hold)")
                )
            if problem is not None:
                walk.broken = _Finding(problem[0], problem[1], "its link", 0)
                return walk
            if seq in wanted:
                walk.heads[seq] = stored_hash
            prev_hash, expected_seq, walk.count = stored_hash, expected_seq + 1, walk.count + 1
    return walk


def _check_link(
    event: _Linked, expected: int, prev_hash: str, walk: _Walk, anchors: AuditAnchors
) -> tuple[int, str] | None:
    if event.seq != expected:
        return expected, f"event {expected} is missing"
    if event.prev_hash != prev_hash:
        return event.seq, "it does not follow the event before it"
    if event.key_id is None:
        if walk.legacy != walk.count:
            return event.seq, "an unkeyed event after keyed ones: the chain was rewritten"
        if walk.legacy >= (anchors.unkeyed_events or 0):
            return event.seq, (
                "it has no MAC key, but the log held only "
                f"{anchors.unkeyed_events or 0} events from before the keyed chain "
                "(server secrets): it was rewritten without the key"
            )
        walk.legacy += 1
        recomputed = chain_hash(event)
    else:
        link = walk.linkers.get(event.key_id)
        if link is None:
            key = anchors.secrets.mac_key(event.key_id)
            if key is None:
                return event.seq, f"its MAC key {event.key_id} is not among the server's audit keys"
            link = walk.linkers[event.key_id] = crypto.audit_linker(key)
        recomputed = link(bytes.fromhex(event.prev_hash), linked_content(event)).hex()
    if not hmac.compare_digest(recomputed, event.hash):
        return event.seq, "its content was changed (its MAC does not hold)"
    return None


def _held_against(walk: _Walk, trusted: Iterable[Checkpoint]) -> Iterable[_Finding]:
    """Each signed checkpoint against the database's chain: what it proves differs.

    A checkpoint the chain matches proves every event up to its count; so the first event a
    mismatching checkpoint proves changed is the one after the highest match below it.
    """
    ordered = sorted(trusted, key=lambda checkpoint: checkpoint.count)
    matched = [
        checkpoint.count
        for checkpoint in ordered
        if (head := walk.heads.get(checkpoint.count)) is not None
        and hmac.compare_digest(head, checkpoint.head)
    ]
    for checkpoint in ordered:
        proof = f"the checkpoint of {checkpoint.time_text} in {checkpoint.source}"
        if checkpoint.count > walk.count and walk.broken is None:
            first = walk.count + 1
            yield _Finding(
                first,
                f"event {first} is missing: the log ends at event {walk.count}, but "
                f"{proof} counted {checkpoint.count} events",
                proof,
                0,
            )
            continue
        head = walk.heads.get(checkpoint.count)
        if head is None or hmac.compare_digest(head, checkpoint.head):
            continue  # it holds (or lies beyond a broken link, which is reported itself)
        first = max((count for count in matched if count < checkpoint.count), default=0) + 1
        if first == checkpoint.count:
            reason = f"event {first} differs from what {proof} signed"
        else:
            reason = (
                f"the log differs from what {proof} signed, at event {first} or after it "
                f"(up to event {checkpoint.count})"
            )
        yield _Finding(first, reason, proof, checkpoint.count - first)
