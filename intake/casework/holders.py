"""Directory changes as they reach cases: approving one, and re-checking what a member holds.

When a member's group, role or active state changes in the verified directory, every case they
hold is checked again against the routing rules: a retired member keeps no copy, and a member
now in the default group keeps no copy of a case that involves it. Copies that no longer fit are
removed (and the case's key moves to a new epoch: :mod:`intake.casework.epochs`), so a group move
and back cannot leave anyone holding a report routed around them.
"""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.accounts import directory, installation, membership
from intake.accounts.directory import ChangeOutcome
from intake.accounts.directory_rules import ROOT, Member
from intake.casework import access, eligibility
from intake.operations import audit
from intake.runtime import Runtime
from intake.storage import db
from intake.storage.models import Case, CaseKey, DirectoryChange

DIRECTORY_ACTOR = "directory"


async def approve_change(
    session: AsyncSession,
    runtime: Runtime,
    change_id: str,
    *,
    signer: str,
    signing_private: bytes,
) -> ChangeOutcome:
    """Sign a pending change; once it takes effect, the staff row follows it and the member's
    cases are re-checked, or a group's new recovery key gets its row (all in ``session``'s
    transaction)."""
    root = membership.pinned_root(runtime)
    outcome = await directory.approve(
        session, change_id, root_public=root, signer=signer, signing_private=signing_private
    )
    if outcome == "applied":
        change = await session.get(DirectoryChange, change_id)
        assert change is not None
        entry = directory.entry_of(change)
        if entry.kind == "recovery":
            # The group's new recovery key: new reports are sealed to it from now on, and the
            # sealed copies refer to its row.
            public = bytes.fromhex(str(entry.body["public"]))
            await installation.add_recovery_rows(session, [public])
            return outcome
        member = await membership.follow_entry(session, entry)
        if member is not None:
            await recheck_holder(session, runtime, member)
    return outcome


async def approve_as_root(
    runtime: Runtime, change_id: str, root_private: bytes, *, actor: str
) -> ChangeOutcome:
    """Sign one pending change as the office root (its key put together from shares by the
    caller), in a transaction of its own, audited as ``actor``'s approval."""
    async with db.transaction(runtime.sessions) as session:
        outcome = await approve_change(
            session, runtime, change_id, signer=ROOT, signing_private=root_private
        )
        await audit.record(
            session,
            actor=actor,
            action="directory change approved",
            detail={"change": change_id, "signer": ROOT, "outcome": outcome},
        )
    return outcome


async def recheck_holder(session: AsyncSession, runtime: Runtime, member: Member) -> int:
    """Remove ``member``'s copies of the cases the routing rules no longer let them hold;
    returns how many were removed."""
    rows = (
        await session.exec(
            select(CaseKey, Case)
            .join(Case, col(Case.id) == col(CaseKey.case_id))
            .where(CaseKey.staff_id == member.staff_id)
        )
    ).all()
    removed = 0
    for _copy, case in rows:
        if member.active and eligibility.fits_routing(case, member, runtime.settings):
            continue
        await access.remove_holder(session, case, member.staff_id)
        await audit.record(
            session,
            actor=DIRECTORY_ACTOR,
            action="case.revoke",
            case_ref=case.ref,
            detail={"from": member.staff_id, "why": "directory change"},
        )
        removed += 1
    return removed
