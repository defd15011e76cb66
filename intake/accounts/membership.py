"""Changing a staff member's place in the recipient directory: their group, role, exclusion label
or active state.

An administrator proposes; the change takes effect only once the people its rule names have
signed it (intake/accounts/directory_rules.py). Until then the staff row keeps what the
directory says, so the administrator alone changes nothing anyone receives. Retiring a member is
the one change an administrator completes alone (taking access away never needs two people):
their own signature is enough. When a change takes effect, the staff row follows it
(:func:`follow_entry`).
"""

from __future__ import annotations

from dataclasses import replace

from sqlmodel.ext.asyncio.session import AsyncSession

from intake.accounts import directory
from intake.accounts.directory_rules import (
    DirectoryInvalid,
    DirectoryState,
    Entry,
    Member,
    member_body,
    member_of_body,
)
from intake.accounts.enrolment import member_of
from intake.accounts.sessions import SignedIn
from intake.errors import InvalidInput
from intake.i18n import N_
from intake.runtime import Runtime
from intake.storage.models import DirectoryChange, Staff

NO_DIRECTORY = N_(
    "The recipient directory is not set up or does not verify, so this change cannot be "
    "proposed: run 'quietline directory verify'."
)


def pinned_root(runtime: Runtime) -> bytes:
    """The office root key's public half; InvalidInput where none is pinned."""
    root = runtime.secrets.root_public
    if root is None:
        raise InvalidInput(NO_DIRECTORY)
    return root


async def _state(session: AsyncSession, runtime: Runtime) -> tuple[bytes, DirectoryState]:
    root = pinned_root(runtime)
    try:
        return root, await directory.verified_state(session, root_public=root)
    except DirectoryInvalid:
        raise InvalidInput(NO_DIRECTORY) from None


def require_declared_group(state: DirectoryState, group: str) -> None:
    """A group is one the directory declares; a mistyped one is refused, never created."""
    if group not in state.groups:
        raise InvalidInput(
            N_("There is no group %(group)s: the groups are %(groups)s."),
            field="group",
            group=group,
            groups=", ".join(sorted(state.groups)),
        )


async def propose_update(
    session: AsyncSession,
    runtime: Runtime,
    person: Staff,
    *,
    role: str,
    group: str,
    label: str | None,
    proposer: str,
) -> DirectoryChange | None:
    """Propose ``person``'s new role, group and label; None when the directory says so already."""
    root, state = await _state(session, runtime)
    require_declared_group(state, group)
    current = state.members.get(person.id) or member_of(person)
    wanted = replace(current, role=role, group=group, label=label)
    if wanted == current and person.id in state.members:
        return None
    return await directory.propose(
        session, root_public=root, kind="member", body=member_body(wanted), proposer=proposer
    )


async def propose_keys(
    session: AsyncSession, runtime: Runtime, person: Staff, *, proposer: str
) -> DirectoryChange:
    """Propose ``person``'s new public keys (after a reset): until signed, they receive nothing."""
    root, state = await _state(session, runtime)
    current = state.members.get(person.id) or member_of(person)
    fresh = member_of(person)
    wanted = replace(
        current,
        encryption_public=fresh.encryption_public,
        signing_public=fresh.signing_public,
    )
    return await directory.propose(
        session, root_public=root, kind="member", body=member_body(wanted), proposer=proposer
    )


async def retire(
    session: AsyncSession, runtime: Runtime, person: Staff, admin: SignedIn
) -> DirectoryChange | None:
    """Retire ``person`` in the directory, signed by ``admin`` alone; None if never entered."""
    root, state = await _state(session, runtime)
    current = state.members.get(person.id)
    if current is None or not current.active:
        return None
    change = await directory.propose(
        session,
        root_public=root,
        kind="member",
        body=member_body(replace(current, active=False)),
        proposer=admin.staff.id,
    )
    if admin.signing_key is not None:
        await directory.approve(
            session,
            change.id,
            root_public=root,
            signer=admin.staff.id,
            signing_private=admin.signing_key,
        )
    return change


async def reactivate(
    session: AsyncSession, runtime: Runtime, person: Staff, *, proposer: str
) -> DirectoryChange | None:
    """Propose ``person``'s return; it needs the full rule's signatures."""
    root, state = await _state(session, runtime)
    current = state.members.get(person.id)
    if current is None or current.active:
        return None
    return await directory.propose(
        session,
        root_public=root,
        kind="member",
        body=member_body(replace(current, active=True)),
        proposer=proposer,
    )


async def follow_entry(session: AsyncSession, entry: Entry) -> Member | None:
    """Make the staff row say what an applied member entry says; the member, or None for other
    kinds of entry (or a member with no row)."""
    if entry.kind != "member":
        return None
    member = member_of_body(entry.body)
    person = await session.get(Staff, member.staff_id)
    if person is None:
        return member
    person.group_name = member.group
    person.role = member.role
    person.exclusion_label = member.label
    if not member.active:
        person.active = False
    session.add(person)
    return member
