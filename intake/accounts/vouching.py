"""Whether the recipient directory vouches for each staff account as the administration pages
show it, for the administrator reading them.

An administrator's edit only proposes; a staff row written around the directory is ignored for
routing and grants (:mod:`intake.accounts.trusted`). The staff list and a person's page must
therefore say, per person, whether what they show is what the service acts on: vouched for by
the directory, waiting for a change's approval, or disagreeing with the directory (and so
receiving nothing).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from intake.accounts import directory, trusted
from intake.accounts.directory_rules import DirectoryState
from intake.runtime import Runtime
from intake.storage.models import Staff


class Standing(StrEnum):
    VOUCHED = "vouched"  # the directory says what the row says, and the member is active
    DISAGREES = "disagrees"  # the row differs from the directory: ignored for routing and grants
    NOT_ENTERED = "not_entered"  # an active account with no directory entry yet
    RETIRED = "retired"  # a disabled account (whatever its entry says, it receives nothing)
    NO_DIRECTORY = "no_directory"  # no root key pinned, or the directory does not verify


# What trusted.disagreement names, as the part of the row that differs.
DIFFERENCES = {
    "its encryption public key differs": "keys",
    "its signing public key differs": "keys",
    "its group differs": "group",
    "its role differs": "role",
    "its exclusion label differs": "label",
    "it is active but retired in the directory": "active",
}


@dataclass(frozen=True)
class Vouching:
    """What the directory says of one staff account."""

    standing: Standing
    pending: bool  # a change about this person waits for approval
    differs: str | None = None  # for DISAGREES: keys, group, role, label or active


def vouching_of(state: DirectoryState | None, person: Staff, pending: set[str]) -> Vouching:
    waiting = person.id in pending
    if state is None:
        return Vouching(Standing.NO_DIRECTORY, waiting)
    if not person.active:
        return Vouching(Standing.RETIRED, waiting)
    member = state.members.get(person.id)
    reason = trusted.disagreement(member, person)
    if member is None:
        return Vouching(Standing.NOT_ENTERED, waiting)
    if reason is not None:
        return Vouching(Standing.DISAGREES, waiting, DIFFERENCES.get(reason, "row"))
    return Vouching(Standing.VOUCHED, waiting)


async def pending_members(session: AsyncSession) -> set[str]:
    """The staff ids that a pending member change is about."""
    found = set()
    for change in await directory.pending_changes(session):
        if change.kind != "member":
            continue
        try:
            found.add(str(json.loads(change.body)["staff_id"]))
        except (ValueError, KeyError, TypeError):
            continue
    return found


async def vouching(runtime: Runtime, people: list[Staff]) -> dict[str, Vouching]:
    """For each of ``people``, by id, what the verified directory says of them."""
    async with runtime.sessions() as session:
        state = await trusted.directory_state(session, runtime)
        pending = await pending_members(session)
    return {person.id: vouching_of(state, person, pending) for person in people}
