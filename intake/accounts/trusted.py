"""The verified recipient directory as the service acts on it, and the staff rows that agree.

The directory (:mod:`intake.accounts.directory`) is the only source of who may receive or be
granted a case. A staff row is trusted only where it agrees with its directory entry; a row that
disagrees (a public key, group, role, label or active state written into the database around
the directory) is ignored for routing and grants, and :func:`disagreements` names it for
``quietline directory verify``, the start-up log and the administration page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from intake.accounts import directory
from intake.accounts.directory_rules import DirectoryInvalid, DirectoryState, Member
from intake.errors import Forbidden
from intake.i18n import N_
from intake.runtime import Runtime
from intake.storage.models import Staff

NOT_IN_DIRECTORY = N_(
    "%(name)s is not in the verified recipient directory as they are now (a change may still "
    "wait for its signatures), so no case can be given to them."
)


async def directory_state(session: AsyncSession, runtime: Runtime) -> DirectoryState | None:
    """The verified directory; None where no root key is pinned or the directory fails."""
    root = runtime.secrets.root_public
    if root is None:
        return None
    try:
        return await directory.verified_state(session, root_public=root)
    except DirectoryInvalid:
        return None


def disagreement(member: Member | None, staff: Staff) -> str | None:
    """Why ``staff`` does not match its directory entry (English, for the operator), or None."""
    if member is None:
        return "it has no directory entry" if staff.active else None
    checks = (
        (staff.public_key == member.encryption_public, "its encryption public key differs"),
        (staff.signing_public == member.signing_public, "its signing public key differs"),
        (staff.group_name == member.group, "its group differs"),
        (staff.role == member.role, "its role differs"),
        (staff.exclusion_label == member.label, "its exclusion label differs"),
    )
    if staff.active and not member.active:
        return "it is active but retired in the directory"
    if not staff.active:
        return None  # a disabled account receives nothing whatever its entry says
    return next((reason for agrees, reason in checks if not agrees), None)


@dataclass(frozen=True)
class Disagreement:
    email: str
    reason: str


def disagreements(state: DirectoryState, staff: Iterable[Staff]) -> list[Disagreement]:
    """Every staff row that does not match the directory, and why."""
    found = []
    for person in staff:
        reason = disagreement(state.members.get(person.id), person)
        if reason is not None:
            found.append(Disagreement(email=person.email, reason=reason))
    return found


def trusted_member(state: DirectoryState | None, staff: Staff) -> Member:
    """``staff``'s directory entry, where the row agrees with it and both are active; else
    Forbidden: a case may be given only to someone the directory vouches for as they are."""
    member = state.members.get(staff.id) if state is not None else None
    if member is None or not member.active or disagreement(member, staff) is not None:
        raise Forbidden(NOT_IN_DIRECTORY, name=staff.name)
    return member
