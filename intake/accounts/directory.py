"""The recipient directory in the database: its entries, the changes waiting for signatures, and
the verified state the service acts on.

The rules live in :mod:`intake.accounts.directory_rules`; this module stores and reads. The
verified state is kept in memory, keyed by the root key and the directory's head, so a report
does not replay the directory: while the newest stored entry is the one last verified, the
state verified then is the state used. A row rewritten behind that entry changes nothing the
service does until the next full verification (:func:`verify_all`: at each start, and by
``quietline directory verify``), which names it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import desc
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.accounts.directory_rules import (
    GENESIS,
    ROOT,
    DirectoryInvalid,
    DirectoryState,
    Entry,
    EntryKind,
    NotEnoughSignatures,
    canonical,
    extend,
    replay,
    required_signers,
    sign_entry,
)
from intake.errors import InvalidInput
from intake.i18n import N_
from intake.storage.models import DirectoryChange, DirectoryEntry

ChangeOutcome = Literal["applied", "pending"]

_verified: dict[bytes, DirectoryState] = {}
"""The last verified state for each root key."""


@dataclass(frozen=True)
class Verification:
    """The result of replaying the whole stored directory."""

    state: DirectoryState | None
    problem: DirectoryInvalid | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def entry_of(row: DirectoryEntry | DirectoryChange) -> Entry:
    signatures = {
        signer: bytes.fromhex(hexed) for signer, hexed in json.loads(row.signatures).items()
    }
    return Entry(
        kind=row.kind,  # type: ignore[arg-type]
        body=json.loads(row.body),
        proposer=row.proposer,
        previous=row.previous,
        signatures=signatures,
    )


def _signatures_json(entry: Entry) -> str:
    return json.dumps({signer: sig.hex() for signer, sig in sorted(entry.signatures.items())})


async def stored_entries(session: AsyncSession) -> list[Entry]:
    rows = await session.exec(select(DirectoryEntry).order_by(col(DirectoryEntry.position)))
    return [entry_of(row) for row in rows.all()]


async def verify_all(session: AsyncSession, *, root_public: bytes) -> Verification:
    """Replay every stored entry; on success the state becomes the one the service uses."""
    try:
        state = replay(await stored_entries(session), root_public=root_public)
    except DirectoryInvalid as problem:
        _verified.pop(root_public, None)
        return Verification(state=None, problem=problem)
    _verified[root_public] = state
    return Verification(state=state, problem=None)


async def verified_state(session: AsyncSession, *, root_public: bytes) -> DirectoryState:
    """The verified directory: from memory while its newest entry is the one last verified.

    Raises :class:`DirectoryInvalid` when the stored directory does not verify.
    """
    cached = _verified.get(root_public)
    newest = (
        await session.exec(select(DirectoryEntry).order_by(desc(col(DirectoryEntry.position))))
    ).first()
    head = entry_of(newest).digest() if newest is not None else GENESIS
    count = newest.position + 1 if newest is not None else 0
    if cached is not None and cached.head == head and cached.count == count:
        return cached
    verification = await verify_all(session, root_public=root_public)
    if verification.problem is not None:
        raise verification.problem
    assert verification.state is not None
    return verification.state


async def state_at(
    session: AsyncSession, *, root_public: bytes, count: int, head_previous: bytes
) -> DirectoryState:
    """The verified directory, given what a caller read of its newest entry in the same
    statement as its other reads (its position + 1 and its link): from memory when they match
    the state last verified, else by :func:`verified_state`.

    An entry rewritten in place behind a verified head changes nothing the service does: the
    state it acts on is the one verified, until the next full verification names the change.
    """
    cached = _verified.get(root_public)
    if cached is not None and cached.count == count and cached.head_previous == head_previous:
        return cached
    return await verified_state(session, root_public=root_public)


async def propose(
    session: AsyncSession,
    *,
    root_public: bytes,
    kind: EntryKind,
    body: dict[str, Any],
    proposer: str,
) -> DirectoryChange:
    """Record a change to the directory; it takes effect once its rule's signatures are in."""
    state = await verified_state(session, root_public=root_public)
    change = DirectoryChange(
        kind=kind,
        body=canonical(body).decode(),
        proposer=proposer,
        previous=state.head,
        proposed_at=datetime.now(UTC),
    )
    session.add(change)
    await session.flush()
    return change


async def pending_changes(session: AsyncSession) -> list[DirectoryChange]:
    rows = await session.exec(
        select(DirectoryChange)
        .where(DirectoryChange.status == "pending")
        .order_by(col(DirectoryChange.proposed_at))
    )
    return list(rows.all())


async def _pending(session: AsyncSession, change_id: str) -> DirectoryChange:
    change = await session.get(DirectoryChange, change_id)
    if change is None or change.status != "pending":
        raise InvalidInput(N_("No pending directory change has this id."))
    return change


async def approve(
    session: AsyncSession,
    change_id: str,
    *,
    root_public: bytes,
    signer: str,
    signing_private: bytes,
) -> ChangeOutcome:
    """Add ``signer``'s signature; append the entry once the rule is satisfied.

    ``signer`` is a staff id (their Ed25519 private key, unlocked in their session) or
    :data:`ROOT` (the root key, put together from its custodians' shares).
    """
    change = await _pending(session, change_id)
    state = await verified_state(session, root_public=root_public)
    if change.previous != state.head:
        if json.loads(change.signatures):
            # Its signatures cover the head it was proposed against: they cannot carry over.
            raise InvalidInput(
                N_("The directory changed after this change was proposed: propose it again.")
            )
        # Nobody has signed it yet: it follows the directory to its new head.
        change.previous = state.head
    entry = entry_of(change)
    if signer != ROOT and signer not in required_signers(state, entry)[1]:
        raise InvalidInput(N_("This change's rule does not name you among the people who sign it."))
    entry = sign_entry(entry, signer, signing_private)
    change.signatures = _signatures_json(entry)
    try:
        extend(state, entry, root_public=root_public)
    except NotEnoughSignatures:
        return "pending"
    except DirectoryInvalid as problem:
        raise InvalidInput(
            N_("This change cannot take effect: %(reason)s."), reason=problem.reason
        ) from None
    session.add(
        DirectoryEntry(
            position=state.count,
            kind=entry.kind,
            body=change.body,
            proposer=entry.proposer,
            previous=entry.previous,
            signatures=change.signatures,
            recorded_at=datetime.now(UTC),
        )
    )
    change.status = "applied"
    change.decided_at = datetime.now(UTC)
    return "applied"


async def install_genesis(
    session: AsyncSession, entries: list[Entry], *, root_public: bytes
) -> int:
    """Append the ceremony's root-signed first entries; return how many were appended.

    The entries must verify against ``root_public`` on their own, and the stored directory must
    be empty or already begin with exactly these entries (installing twice changes nothing).
    """
    try:
        replay(entries, root_public=root_public)
    except DirectoryInvalid as problem:
        raise InvalidInput(
            N_("The ceremony's entries do not verify against this root key: %(reason)s."),
            reason=str(problem),
        ) from None
    stored = await stored_entries(session)
    if stored:
        if [e.digest() for e in stored[: len(entries)]] == [e.digest() for e in entries]:
            return 0
        raise InvalidInput(
            N_("This directory has other entries already: the ceremony's cannot begin it.")
        )
    now = datetime.now(UTC)
    for position, entry in enumerate(entries):
        session.add(
            DirectoryEntry(
                position=position,
                kind=entry.kind,
                body=canonical(dict(entry.body)).decode(),
                proposer=entry.proposer,
                previous=entry.previous,
                signatures=_signatures_json(entry),
                recorded_at=now,
            )
        )
    await session.flush()
    return len(entries)


async def refuse(session: AsyncSession, change_id: str) -> None:
    change = await _pending(session, change_id)
    change.status = "refused"
    change.decided_at = datetime.now(UTC)


def forget_verified() -> None:
    """Drop the in-memory state, so the next read replays the directory (tests, restores)."""
    _verified.clear()
