"""What administrators manage: staff accounts, categories, groups and deadlines.

Administrators hold no key to any case by their role: nothing here opens a
case. Every change is audited in its transaction. A change to who may receive
cases (a member's group, role, exclusion label, keys or return) is only proposed
here: it takes effect in the recipient directory once the people its rule names
have signed it (intake/accounts/membership.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.accounts import enrolment, keyring, membership, organisation, sessions
from intake.accounts.sessions import SignedIn
from intake.casework import deadline_settings
from intake.casework.vocabulary import Role
from intake.config import Settings
from intake.deadlines import DeadlineRules
from intake.errors import Forbidden, InvalidInput
from intake.i18n import N_
from intake.operations import audit
from intake.runtime import Runtime
from intake.storage import db
from intake.storage.models import Case, CaseKey, Category, Staff, is_id

MAX_LABEL = 200


def require_admin(signed_in: SignedIn) -> None:
    if signed_in.staff.role != Role.ADMIN:
        raise Forbidden(N_("Only administrators can manage accounts and settings."))


@dataclass(frozen=True)
class NewCredentials:
    """Shown once to the administrator, who hands them to the person."""

    staff: Staff
    totp_secret: str = field(repr=False)
    totp_uri: str = field(repr=False)
    cases_lost: int = 0
    # The id of the directory change proposing the new member, where a root key is pinned.
    directory_change: str | None = None


def _clean_label(label: str | None) -> str | None:
    if label is None or not label.strip():
        return None
    if len(label) > MAX_LABEL:
        raise InvalidInput(
            N_("The label is too long (at most %(limit)s characters)."),
            field="exclusion_label",
            limit=MAX_LABEL,
        )
    return label.strip()


@dataclass(frozen=True)
class Account:
    """Whom a new staff account is for (the password travels beside it, never in it)."""

    email: str
    name: str
    role: str
    group: str
    exclusion_label: str | None = None


async def create_account(
    session: AsyncSession,
    settings: Settings,
    account: Account,
    password: str,
    *,
    root_public: bytes | None = None,
    issuer: str = "Quietline",
    proposer: str = "cli",
) -> NewCredentials:
    """Add a staff account (committed with ``session``) and the credentials to hand over.

    The one way an account is made: by an administrator, ``quietline staff add`` and the demo.
    Where a root key is pinned (``root_public``), the member's directory entry is proposed in
    the same transaction, by ``proposer`` (a staff id, or ``"cli"`` for the operator).
    """
    staff, unlocked = await keyring.create_staff(
        session,
        settings,
        email=account.email,
        name=account.name,
        role=account.role,
        group=account.group,
        password=password,
    )
    staff.exclusion_label = _clean_label(account.exclusion_label)
    await session.flush()
    change = None
    if root_public is not None:
        change = await enrolment.propose_member(
            session, staff, root_public=root_public, proposer=proposer
        )
    return NewCredentials(
        staff=staff,
        totp_secret=unlocked.totp_secret,
        totp_uri=keyring.totp_uri(staff, unlocked, issuer=issuer),
        directory_change=change.id if change is not None else None,
    )


async def add_staff(
    runtime: Runtime,
    admin: SignedIn,
    *,
    email: str,
    name: str,
    role: str,
    group: str,
    password: str,
    exclusion_label: str | None = None,
) -> NewCredentials:
    require_admin(admin)
    account = Account(email, name, role, group, exclusion_label)
    issuer = await _issuer(runtime)
    async with db.transaction(runtime.sessions) as session:
        made = await create_account(
            session,
            runtime.settings,
            account,
            password,
            root_public=runtime.secrets.root_public,
            proposer=admin.staff.id,
            issuer=issuer,
        )
        staff = made.staff
        await audit.record(
            session,
            actor=admin.actor,
            action="admin.staff_add",
            detail={
                "email": staff.email,
                "role": staff.role,
                "group": staff.group_name,
                "directory_change": made.directory_change,
            },
        )
    return made


async def _issuer(runtime: Runtime) -> str:
    """The organisation's name as an authenticator app shows it beside the code."""
    return (await organisation.current(runtime)).text("name", "en") or "Quietline"


async def _person(session: AsyncSession, staff_id: str) -> Staff:
    person = await session.get(Staff, staff_id) if is_id(staff_id) else None
    if person is None:
        raise InvalidInput(N_("There is no staff member with this id."), field="staff_id")
    return person


@dataclass(frozen=True)
class StaffUpdate:
    """What became of an administrator's edit: the name is changed at once; a new role, group
    or label waits for its signatures (``directory_change``, None when nothing had to change)."""

    staff: Staff
    directory_change: str | None


def _check_update(admin: SignedIn, staff_id: str, *, name: str, role: str, group: str) -> None:
    if role not in tuple(Role):
        raise InvalidInput(
            N_("The role must be one of %(roles)s."), field="role", roles=", ".join(Role)
        )
    if not name.strip() or len(name) > 200:
        raise InvalidInput(N_("A name (up to 200 characters) is needed."), field="name")
    if not group.strip() or len(group) > 50:
        raise InvalidInput(N_("A group (up to 50 characters) is needed."), field="group")
    if staff_id == admin.staff.id and role != Role.ADMIN:
        raise InvalidInput(N_("You cannot remove your own administrator role."), field="role")


async def update_staff(
    runtime: Runtime,
    admin: SignedIn,
    staff_id: str,
    *,
    name: str,
    role: str,
    group: str,
    exclusion_label: str | None,
) -> StaffUpdate:
    require_admin(admin)
    _check_update(admin, staff_id, name=name, role=role, group=group)
    label = _clean_label(exclusion_label)
    async with db.transaction(runtime.sessions) as session:
        person = await _person(session, staff_id)
        person.name = name.strip()
        session.add(person)
        before = {"role": person.role, "group": person.group_name, "label": person.exclusion_label}
        after = {"role": role, "group": group.strip(), "label": label}
        change = await membership.propose_update(
            session,
            runtime,
            person,
            role=role,
            group=group.strip(),
            label=label,
            proposer=admin.staff.id,
        )
        await audit.record(
            session,
            actor=admin.actor,
            action="admin.staff_update",
            detail={
                "email": person.email,
                "before": before,
                "proposed": after,
                "directory_change": change.id if change is not None else None,
            },
        )
    return StaffUpdate(staff=person, directory_change=change.id if change is not None else None)


async def set_active(runtime: Runtime, admin: SignedIn, staff_id: str, *, active: bool) -> Staff:
    """Disable an account (ending every session, deleting every copy of a case key it holds and
    retiring it in the directory, all at once), or re-enable it (its return to the directory
    is proposed and needs its rule's signatures before it receives anything)."""
    require_admin(admin)
    if staff_id == admin.staff.id and not active:
        raise InvalidInput(N_("You cannot disable your own account."), field="staff_id")
    async with db.transaction(runtime.sessions) as session:
        person = await _person(session, staff_id)
        person.active = active
        session.add(person)
        detail: dict[str, object] = {"email": person.email}
        if active:
            change = await membership.reactivate(session, runtime, person, proposer=admin.staff.id)
        else:
            await sessions.end_all_sessions(session, person.id)
            detail["cases_removed"] = await _delete_copies(session, person.id)
            change = await membership.retire(session, runtime, person, admin)
        detail["directory_change"] = change.id if change is not None else None
        await audit.record(
            session,
            actor=admin.actor,
            action="admin.staff_enable" if active else "admin.staff_disable",
            detail=detail,
        )
    return person


async def _delete_copies(session: AsyncSession, staff_id: str) -> int:
    """Delete every copy of a case key sealed to ``staff_id``; how many there were."""
    count = (
        await session.exec(
            select(func.count()).select_from(CaseKey).where(CaseKey.staff_id == staff_id)
        )
    ).one()
    # Their cases move to a new key epoch at the next writing (intake/casework/epochs.py).
    await session.exec(
        update(Case)  # type: ignore[call-overload]
        .where(col(Case.id).in_(select(CaseKey.case_id).where(CaseKey.staff_id == staff_id)))
        .values(rekey_due=True)
    )
    await session.exec(
        delete(CaseKey).where(col(CaseKey.staff_id) == staff_id)  # type: ignore[call-overload]
    )
    return int(count)


async def reset_staff(
    runtime: Runtime, admin: SignedIn, staff_id: str, *, password: str
) -> NewCredentials:
    """A new password, key pairs (sealing and signing) and TOTP secret for someone who lost theirs.

    Their old private key is gone with the old password, so every case sealed to it becomes
    unreadable to them: those copies are deleted, and a holder (or the recovery key) must
    grant each case again.
    """
    require_admin(admin)
    keyring.validate_password(password)
    keys = keyring.new_staff_keys()
    unlocked = keys.secrets
    credential = await keyring.lock_staff_secrets(runtime.settings, password, unlocked)
    async with db.transaction(runtime.sessions) as session:
        person = await _person(session, staff_id)
        lost = await _delete_copies(session, person.id)
        person.public_key = keys.public_key
        person.signing_public = keys.signing_public
        person.credential = credential
        person.totp_last_step = 0
        person.failed_logins = 0
        person.locked_until = None
        session.add(person)
        await sessions.end_all_sessions(session, person.id)
        # The new keys receive nothing until the directory says they are this person's.
        change = await membership.propose_keys(session, runtime, person, proposer=admin.staff.id)
        await audit.record(
            session,
            actor=admin.actor,
            action="admin.staff_reset",
            detail={"email": person.email, "cases_lost": lost, "directory_change": change.id},
        )
    return NewCredentials(
        staff=person,
        totp_secret=unlocked.totp_secret,
        totp_uri=keyring.totp_uri(person, unlocked, issuer=await _issuer(runtime)),
        cases_lost=lost,
    )


async def all_staff(runtime: Runtime) -> list[Staff]:
    async with runtime.sessions() as session:
        return await keyring.list_staff(session)


async def staff_member(runtime: Runtime, staff_id: str) -> Staff | None:
    if not is_id(staff_id):
        return None
    async with runtime.sessions() as session:
        return await session.get(Staff, staff_id)


# --- categories ------------------------------------------------------------------------------


async def all_categories(runtime: Runtime) -> list[Category]:
    async with runtime.sessions() as session:
        result = await session.exec(select(Category).order_by(col(Category.position)))
        return list(result.all())


def _category_id(text: str) -> str:
    ident = text.strip().lower()
    if not ident or len(ident) > 50 or not all(ch.isalnum() or ch in "-_" for ch in ident):
        raise InvalidInput(
            N_("The short name may use letters, digits, - and _ only (up to 50)."), field="id"
        )
    return ident


def _category_label(text: str) -> str:
    if not text.strip() or len(text) > MAX_LABEL:
        raise InvalidInput(
            N_("The label shown to reporters is needed (up to %(limit)s characters)."),
            field="label",
            limit=MAX_LABEL,
        )
    return text.strip()


async def add_category(runtime: Runtime, admin: SignedIn, *, ident: str, label: str) -> Category:
    require_admin(admin)
    ident, label = _category_id(ident), _category_label(label)
    async with db.transaction(runtime.sessions) as session:
        if await session.get(Category, ident) is not None:
            raise InvalidInput(
                N_("A category named %(name)s exists already."), field="id", name=ident
            )
        last = (await session.exec(select(func.max(Category.position)))).one()
        category = Category(id=ident, label=label, position=(last or 0) + 1)
        session.add(category)
        await audit.record(
            session, actor=admin.actor, action="admin.category_add", detail={"id": ident}
        )
    return category


async def update_category(
    runtime: Runtime, admin: SignedIn, ident: str, *, label: str, active: bool
) -> Category:
    """Rename or retire a category; retired ones stay on old cases but leave the form."""
    require_admin(admin)
    label = _category_label(label)
    ident = _category_id(ident)
    async with db.transaction(runtime.sessions) as session:
        category = await session.get(Category, ident)
        if category is None:
            raise InvalidInput(N_("There is no such category."), field="id")
        category.label, category.active = label, active
        session.add(category)
        if not (
            await session.exec(
                select(func.count()).select_from(Category).where(col(Category.active))
            )
        ).one():
            raise InvalidInput(
                N_("At least one category must stay offered to reporters."), field="id"
            )
        await audit.record(
            session,
            actor=admin.actor,
            action="admin.category_update",
            detail={"id": ident, "active": active},
        )
    return category


# --- groups ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupSummary:
    name: str
    purpose: str  # "default" | "alternate" | ""
    members: list[Staff]

    @property
    def receiving_officers(self) -> int:
        return sum(1 for person in self.members if person.active and person.role == Role.OFFICER)


async def groups(runtime: Runtime) -> list[GroupSummary]:
    settings = runtime.settings
    people = await all_staff(runtime)
    names = {settings.default_group, settings.alternate_group} | {p.group_name for p in people}
    purpose = {settings.default_group: "default", settings.alternate_group: "alternate"}
    ordered = sorted(names, key=lambda name: (name not in purpose, purpose.get(name, ""), name))
    return [
        GroupSummary(
            name=name,
            purpose=purpose.get(name, ""),
            members=[person for person in people if person.group_name == name],
        )
        for name in ordered
    ]


# --- deadlines -------------------------------------------------------------------------------


async def deadlines(runtime: Runtime) -> DeadlineRules:
    async with runtime.sessions() as session:
        return await deadline_settings.current_rules(session, runtime)


async def set_deadlines(
    runtime: Runtime, admin: SignedIn, form: deadline_settings.DeadlineForm
) -> DeadlineRules:
    """New rules apply to cases received or acknowledged from now on; due dates already set stay."""
    require_admin(admin)
    rules = deadline_settings.parse(form)
    async with db.transaction(runtime.sessions) as session:
        await deadline_settings.store(session, rules)
        await audit.record(
            session,
            actor=admin.actor,
            action="admin.deadlines",
            detail={
                "ack_days": rules.ack_days,
                "reprisal_ack_days": rules.reprisal_ack_days,
                "feedback_months": rules.feedback_months,
                "clock": rules.clock,
                "holidays": len(rules.holidays),
            },
        )
    return rules
