"""Whom a case may be given or assigned to: the rules a grant or an assignment is refused by
(:mod:`intake.casework.access` applies them), and the people a case page offers, drawn from the
same rules, so that what a page offers and what the server refuses cannot disagree. The server
still checks whatever is posted.

A case may be given only to an active staff member the verified directory vouches for as they
are (:mod:`intake.accounts.trusted`), never to a person the reporter excluded, and never to a
member of the office the reporter said the case involves.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

import crypto
from intake import i18n
from intake.accounts import trusted
from intake.accounts.directory_rules import DirectoryState, Member
from intake.casework import records, routing
from intake.casework.vocabulary import Role
from intake.config import Settings
from intake.errors import Forbidden
from intake.i18n import N_
from intake.runtime import Runtime
from intake.storage.models import Case, CaseKey, Staff


def fits_routing(case: Case, member: Member, settings: Settings) -> bool:
    """Whether the office rule lets ``member`` (as the directory has them) hold ``case``."""
    return not (case.involves_office and member.group == settings.default_group)


def refusal(
    case: Case, person: Staff, member: Member, excluded: Collection[str], settings: Settings
) -> Forbidden | None:
    """Why ``case`` cannot be given to ``person`` (whom the directory vouches for as
    ``member``), or None; ``excluded`` is whom the reporter excluded (decrypted)."""
    if member.role == Role.CUSTODIAN:
        return Forbidden(
            N_("%(name)s is or was an identity custodian for this case: it cannot be given them."),
            name=person.name,
        )
    if person.id in excluded:
        return Forbidden(
            N_("%(name)s was excluded by the reporter and can never be given this case."),
            name=person.name,
        )
    if not fits_routing(case, member, settings):
        return Forbidden(
            N_(
                "The reporter said this case involves %(group)s: it cannot be given to its members."
            ),
            group=i18n.gettext(routing.group_display_name(settings, member.group)),
        )
    return None


def vouched_member(state: DirectoryState | None, person: Staff) -> Member | None:
    """``person``'s directory entry where the directory vouches for them as they are, else None
    (the test :func:`intake.accounts.trusted.trusted_member` refuses by)."""
    try:
        return trusted.trusted_member(state, person)
    except Forbidden:
        return None


@dataclass(frozen=True)
class Candidate:
    """A person a case page offers to assign the case to or to give it to."""

    staff_id: str
    name: str
    role: str
    group: str
    holds: bool  # holds a copy of the case's key already


@dataclass(frozen=True)
class Choices:
    #: Whom the case may be assigned to: its holders the directory vouches for, and the others
    #: it may be given to (assigning them gives them the case).
    assignable: list[Candidate]
    #: Whom the case may be given to: not holding it yet, and allowed by every rule.
    grantable: list[Candidate]


async def choices(
    session: AsyncSession, runtime: Runtime, case: Case, keys: crypto.KeyEpochs
) -> Choices:
    """The people a holder of ``case`` (its keys opened in their session) may assign it to or
    give it to, by the rules a grant or an assignment is refused by."""
    state = await trusted.directory_state(session, runtime)
    holders = set(
        (
            await session.exec(
                select(CaseKey.staff_id)
                .where(CaseKey.case_id == case.id)
                .where(col(CaseKey.staff_id).is_not(None))
            )
        ).all()
    )
    people = (
        await session.exec(
            select(Staff).where(col(Staff.active)).order_by(Staff.group_name, Staff.name)
        )
    ).all()
    excluded = records.decrypt_exclusions(keys, case)
    assignable: list[Candidate] = []
    for person in people:
        member = vouched_member(state, person)
        if member is None:
            continue
        holds = person.id in holders
        if not holds and refusal(case, person, member, excluded, runtime.settings) is not None:
            continue
        assignable.append(
            Candidate(
                staff_id=person.id,
                name=person.name,
                role=member.role,
                group=member.group,
                holds=holds,
            )
        )
    return Choices(
        assignable=assignable,
        grantable=[person for person in assignable if not person.holds],
    )


async def can_open(session: AsyncSession, staff_id: str, case_id: str) -> bool:
    """Whether ``staff_id`` holds a copy of the case's key: without one, the case answers them
    as if it did not exist (:func:`intake.casework.access.open_for_staff`)."""
    found = await session.exec(
        select(CaseKey.id).where(CaseKey.case_id == case_id).where(CaseKey.staff_id == staff_id)
    )
    return found.first() is not None
