"""Pending recipient-directory changes as the people asked to sign them read them.

An officer approving a change signs it: they must see what it would do before they do, in
terms of people rather than keys. For each pending change this module gathers, from the verified
directory and the staff rows, the member it is about, what the directory says of them now and
what it would say after, who has validly signed so far and whom the rule still needs, and
whether the signed-in person may sign or refuse it. It decides nothing and writes nothing; the
signing is :mod:`intake.casework.directory_decisions`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

import crypto
from intake.accounts import directory, keyring
from intake.accounts.directory_rules import (
    ROOT,
    DirectoryInvalid,
    DirectoryState,
    Member,
    Outstanding,
    Recovery,
    member_of_body,
    outstanding,
)
from intake.accounts.sessions import SignedIn
from intake.errors import Forbidden, InvalidInput
from intake.i18n import N_
from intake.runtime import Runtime
from intake.storage.models import DirectoryChange, is_id

OPERATOR = "cli"
"""The proposer id of a change made on the command line (``quietline staff add``)."""

NO_DIRECTORY = N_(
    "The recipient directory is not set up or does not verify, so no change can be approved "
    "here: the operator should run 'quietline directory verify'."
)
NO_SUCH_CHANGE = N_("No pending directory change has this id.")
REVIEWERS = ("officer", "admin")
NOT_A_REVIEWER = N_(
    "Only intake officers and administrators see and decide the recipient directory's changes."
)


@dataclass(frozen=True)
class Standing:
    """What the directory says of a member: the values a change may alter."""

    group: str
    role: str
    label: str | None
    active: bool


@dataclass(frozen=True)
class Person:
    """A staff member as people know them (the directory knows only their id)."""

    id: str
    name: str
    email: str


@dataclass(frozen=True)
class ChangeReview:
    """One pending change, read for the people asked to sign or refuse it."""

    id: str
    kind: str
    proposer: str  # a staff id, OPERATOR or ROOT
    proposer_person: Person | None
    proposed_on: date
    group: str | None  # the group the change is in (a member's group after it)
    member: Person | None  # a member entry's person
    before: Standing | None  # None for a member the directory does not know yet
    after: Standing | None
    keys_change: bool
    recovery: Recovery | None  # a recovery entry's key and custodians
    group_declared: str | None  # a group entry's display name
    signed: tuple[Person, ...]
    needs: Outstanding
    needed_people: tuple[Person, ...]  # whom the rule still names (any ``needs.count`` of them)
    named_people: tuple[Person, ...]  # whom it names each (the proposing administrator)
    stale: bool  # signed against an older head: it must be proposed again
    may_sign: bool
    may_refuse: bool

    @property
    def proposed_by(self) -> str:
        """The proposer for the API: an email, "operator" or "office root"."""
        if self.proposer == OPERATOR:
            return "operator"
        if self.proposer == ROOT:
            return "office root"
        return self.proposer_person.email if self.proposer_person else self.proposer


def require_reviewer(me: SignedIn) -> None:
    if me.staff.role not in REVIEWERS:
        raise Forbidden(NOT_A_REVIEWER)


def standing_of(member: Member) -> Standing:
    return Standing(group=member.group, role=member.role, label=member.label, active=member.active)


async def verified(session: AsyncSession, runtime: Runtime) -> DirectoryState:
    """The verified directory; InvalidInput where it is not set up or does not verify."""
    root = runtime.secrets.root_public
    if root is None:
        raise InvalidInput(NO_DIRECTORY)
    try:
        return await directory.verified_state(session, root_public=root)
    except DirectoryInvalid:
        raise InvalidInput(NO_DIRECTORY) from None


def _day(runtime: Runtime, moment: datetime) -> date:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(ZoneInfo(runtime.settings.timezone)).date()


def _people(ids: Iterable[str], known: dict[str, Person]) -> tuple[Person, ...]:
    found = [known[staff_id] for staff_id in ids if staff_id in known]
    return tuple(sorted(found, key=lambda person: (person.name, person.email)))


def _may_sign(state: DirectoryState, me: SignedIn, needs: Outstanding, stale: bool) -> bool:
    """Whether ``me``'s signature would count: the rule names them, and the key in their session
    is the one the directory holds for them."""
    if stale or me.staff.id not in needs.eligible or me.signing_key is None:
        return False
    return crypto.signing_public_key_of(me.signing_key) == state.signing_key(me.staff.id)


def _may_refuse(
    state: DirectoryState, me: SignedIn, groups: set[str], about: Person | None
) -> bool:
    """Officers of the group a change is in (before or after it) and administrators; never the
    person the change is about, who could otherwise keep themselves in place."""
    mine = state.members.get(me.staff.id)
    if mine is None or not mine.active or (about is not None and about.id == me.staff.id):
        return False
    return mine.role == "admin" or (mine.role == "officer" and mine.group in groups)


def review(
    runtime: Runtime,
    state: DirectoryState,
    change: DirectoryChange,
    me: SignedIn,
    known: dict[str, Person],
) -> ChangeReview:
    """Read one pending change against the verified ``state``, for ``me``."""
    entry = directory.entry_of(change)
    stale = change.previous != state.head and bool(entry.signatures)
    needs = outstanding(state, entry)
    member = before = after = recovery = declared = None
    keys_change = False
    group: str | None = None
    groups: set[str] = set()
    try:
        if entry.kind == "member":
            new = member_of_body(entry.body)
            old = state.members.get(new.staff_id)
            member = known.get(new.staff_id) or Person(new.staff_id, new.staff_id, "")
            before = standing_of(old) if old is not None else None
            after = standing_of(new)
            keys_change = old is None or (
                (old.encryption_public, old.signing_public)
                != (new.encryption_public, new.signing_public)
            )
            group = new.group
            groups = {new.group} | ({old.group} if old is not None else set())
        elif entry.kind == "audit":
            bytes.fromhex(str(entry.body["public"]))  # a malformed key: refuse it
        else:
            group = str(entry.body["group"])
            groups = {group}
            if entry.kind == "recovery":
                recovery = Recovery(
                    group=group,
                    public=bytes.fromhex(str(entry.body["public"])),
                    threshold=int(entry.body["threshold"]),
                    custodians=tuple(str(c) for c in entry.body["custodians"]),
                )
            else:
                declared = str(entry.body.get("name", group))
    except (KeyError, ValueError, TypeError):
        # A malformed change can only be refused (approving it fails with the reason).
        needs = Outstanding(root_only=True)
    return ChangeReview(
        id=change.id,
        kind=entry.kind,
        proposer=entry.proposer,
        proposer_person=known.get(entry.proposer),
        proposed_on=_day(runtime, change.proposed_at),
        group=group,
        member=member,
        before=before,
        after=after,
        keys_change=keys_change,
        recovery=recovery,
        group_declared=declared,
        signed=_people(needs.signed, known),
        needs=needs,
        needed_people=_people(needs.among, known) if needs.count else (),
        named_people=_people(needs.named, known),
        stale=stale,
        may_sign=_may_sign(state, me, needs, stale),
        may_refuse=_may_refuse(state, me, groups, member),
    )


async def known_people(session: AsyncSession) -> dict[str, Person]:
    return {
        person.id: Person(person.id, person.name, person.email)
        for person in await keyring.list_staff(session)
    }


async def pending_reviews(
    session: AsyncSession, runtime: Runtime, me: SignedIn
) -> list[ChangeReview]:
    """Every pending change, oldest first, read for ``me``."""
    require_reviewer(me)
    state = await verified(session, runtime)
    known = await known_people(session)
    return [
        review(runtime, state, change, me, known)
        for change in await directory.pending_changes(session)
    ]


async def one_review(
    session: AsyncSession, runtime: Runtime, me: SignedIn, change_id: str
) -> ChangeReview:
    """One pending change read for ``me``; InvalidInput when there is no such pending change."""
    require_reviewer(me)
    change = await session.get(DirectoryChange, change_id) if is_id(change_id) else None
    if change is None or change.status != "pending":
        raise InvalidInput(NO_SUCH_CHANGE)
    state = await verified(session, runtime)
    return review(runtime, state, change, me, await known_people(session))
