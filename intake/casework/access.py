"""Who may open a case, and the one place a case's data key is opened.

A case's data key is sealed to each holder (``CaseKey`` rows), wrapped to the reporter's
token-derived key, and sealed to the receiving group's recovery key. This module opens it in
each of those ways: :func:`open_for_staff` with a staff member's own copy and their session's
private key, :func:`open_by_token` with the reporter's token, :func:`open_with_private_key`
with a staff private key given outright, and :func:`open_with_recovery_key` with a group's
recovery key put together from its custodians' shares (intake/casework/recovery.py). A case
that cannot be opened is answered exactly like a case that does not exist, so a refusal
reveals nothing.

It also gives and takes access (grant, revoke, assign), always through a holder who opened the
key in their own session or through recovery (:func:`give`), and holds what each
role may do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Protocol, TypeVar

from sqlalchemy import delete, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

import crypto
from intake import mail
from intake.accounts import keyring, trusted
from intake.accounts.directory_rules import Member
from intake.accounts.sessions import SignedIn
from intake.casework import eligibility, epochs, records
from intake.casework.vocabulary import Role
from intake.errors import (
    CaseDeleted,
    CaseNotFound,
    Forbidden,
    InvalidInput,
    QuietlineError,
    TokenMistyped,
)
from intake.i18n import N_
from intake.operations import audit
from intake.runtime import Runtime
from intake.storage import db
from intake.storage.models import Case, CaseKey, IdentityHalf, RecoveryKey, Staff, is_id

NO_SUCH_CASE = N_("No case with this reference is open to you.")
REF_PATTERN = re.compile(r"QL-[0-9A-Z]{5}-[0-9A-Z]{5}")
CASE_DELETED = N_(
    "This case is closed and its records have been deleted, as the office's retention rules "
    "require. Nothing of it can be read any more, and no message can be sent with this token. "
    "If you have a new concern, please make a new report."
)

# What each role may do on a case it holds a key to. Investigators work the cases granted to
# them: they read and keep notes; intake officers (and administrators granted a case) do the rest.
ROLE_ACTIONS: dict[Role, frozenset[str]] = {
    Role.OFFICER: frozenset({"view", "note", "message", "stage", "assign", "grant", "intake"}),
    Role.ADMIN: frozenset({"view", "note", "message", "stage", "assign", "grant"}),
    Role.INVESTIGATOR: frozenset({"view", "note"}),
    # Identity custodians hold no case: they only decide requests to open an identity.
    Role.CUSTODIAN: frozenset(),
}
_ROLE_REFUSALS = {
    "message": N_("Your role cannot message reporters."),
    "stage": N_("Your role cannot change a case's stage."),
    "assign": N_("Your role cannot assign cases."),
    "grant": N_("Your role cannot give or remove access to cases."),
    "intake": N_("Your role cannot record reports received by phone, mail or in person."),
}


def allowed_actions(role: str) -> frozenset[str]:
    """What a staff member of this role may do on a case they hold a key to."""
    try:
        return ROLE_ACTIONS[Role(role)]
    except ValueError:
        return frozenset()


def require_role(signed_in: SignedIn, action: str) -> None:
    if action not in allowed_actions(signed_in.staff.role):
        raise Forbidden(_ROLE_REFUSALS.get(action, N_("Your role cannot do this.")))


# --- opening a case's data key ---------------------------------------------------------------


async def open_for_staff(
    session: AsyncSession, signed_in: SignedIn, ref: str, *, for_update: bool = False
) -> tuple[Case, crypto.KeyEpochs]:
    """The case and its keys, through this person's own sealed copy; else CaseNotFound."""
    ref = ref.strip().upper()
    if not REF_PATTERN.fullmatch(ref):
        raise CaseNotFound(NO_SUCH_CASE)
    statement = select(Case).where(Case.ref == ref)
    if for_update:
        statement = statement.with_for_update()
    case = (await session.exec(statement)).first()
    if case is None:
        raise CaseNotFound(NO_SUCH_CASE)
    sealed = (
        await session.exec(
            select(CaseKey.sealed)
            .where(CaseKey.case_id == case.id)
            .where(CaseKey.staff_id == signed_in.staff.id)
        )
    ).first()
    keys = unseal_own_copy(signed_in, case.id, sealed) if sealed is not None else None
    if keys is None:
        raise CaseNotFound(NO_SUCH_CASE)
    return case, keys


def unseal_own_copy(signed_in: SignedIn, case_id: str, sealed: bytes) -> crypto.KeyEpochs | None:
    """A case's keys from this person's own sealed copy; None for a copy sealed to a key they
    no longer have (their account was reset)."""
    try:
        return crypto.KeyEpochs.unpack(
            crypto.unseal(
                sealed, signed_in.private_key, case_id=case_id, purpose=keyring.CASE_KEY_PURPOSE
            )
        )
    except crypto.DecryptionError:
        return None


class NoKeyToCase(QuietlineError):
    """The person asking holds no key that opens this case."""

    status = 403


async def open_with_private_key(
    session: AsyncSession, case: Case, private_key: bytes, *, staff_id: str
) -> crypto.KeyEpochs:
    """Unseal the case's keys with a staff member's private key given outright (their own
    copy). A recovery key is never given outright: it is put together from its custodians'
    shares (:func:`open_with_recovery_key`)."""
    query = select(CaseKey).where(CaseKey.case_id == case.id).where(CaseKey.staff_id == staff_id)
    for wrap in (await session.exec(query)).all():
        try:
            return crypto.KeyEpochs.unpack(
                crypto.unseal(
                    wrap.sealed, private_key, case_id=case.id, purpose=keyring.CASE_KEY_PURPOSE
                )
            )
        except crypto.DecryptionError:
            continue
    raise NoKeyToCase(N_("You hold no key to this case, so it cannot be exported."))


async def open_with_recovery_key(
    session: AsyncSession, case: Case, private_key: bytes, public_key: bytes
) -> crypto.KeyEpochs:
    """Unseal the case's keys with a recovery key put together from shares: only a copy
    sealed to that key's row is tried."""
    copies = await session.exec(
        select(CaseKey.sealed)
        .join(RecoveryKey, col(RecoveryKey.id) == col(CaseKey.recovery_key_id))
        .where(CaseKey.case_id == case.id)
        .where(RecoveryKey.public_key == public_key)
    )
    for sealed in copies.all():
        try:
            return crypto.KeyEpochs.unpack(
                crypto.unseal(
                    sealed, private_key, case_id=case.id, purpose=keyring.CASE_KEY_PURPOSE
                )
            )
        except crypto.DecryptionError:
            continue
    raise NoKeyToCase(
        N_("This case is not sealed to the recovery key these shares open: nothing was opened.")
    )


async def active_holders(session: AsyncSession, case_id: str) -> int:
    """How many active staff accounts hold a copy of the case's key."""
    found = await session.exec(
        select(func.count())
        .select_from(CaseKey)
        .join(Staff, col(Staff.id) == col(CaseKey.staff_id))
        .where(CaseKey.case_id == case_id)
        .where(col(Staff.active))
    )
    return int(found.one())


def reporter_wrap_context(case_id: str) -> str:
    """What the reporter's wrap of a case key is bound to."""
    return f"reporter:{case_id}"


def canonical_token(token_text: str) -> str:
    """The token as stored keys are derived from it; a typo is answered as a typo."""
    try:
        return crypto.normalise_token(token_text)
    except crypto.TokenTypo as exc:
        raise TokenMistyped(exc.template, field="token", **exc.params) from exc


class TokenOpens(Protocol):
    """What opening a case with the reporter's token reads: a Case, or a row of its columns."""

    @property
    def id(self) -> str: ...
    @property
    def salt(self) -> bytes: ...
    @property
    def reporter_wrap(self) -> bytes | None: ...
    @property
    def purged_on(self) -> date | None: ...
    @property
    def reporter_sealed(self) -> bytes | None: ...


Found = TypeVar("Found", bound=TokenOpens)


def open_by_token(canonical: str, case: Found | None) -> tuple[Found, crypto.KeyEpochs]:
    """The case and its keys, opened with the reporter's token; or what the reporter is told
    when no case matches or it was purged. ``case`` is a Case or a row with its columns.

    The first key comes from the reporter's wrap; once the case has moved to a later epoch,
    every epoch's key is sealed to the reporter's token-derived key pair as well."""
    if case is not None and case.purged_on is not None:
        raise CaseDeleted(CASE_DELETED)
    if case is None or case.reporter_wrap is None:
        raise CaseNotFound(
            N_(
                "No report matches this token. Please check it; if it is right, the case may "
                "have been closed and deleted."
            ),
            field="token",
        )
    if case.reporter_sealed is not None:
        private = crypto.reporter_keypair(canonical, case.salt).private
        return case, crypto.KeyEpochs.unpack(
            crypto.unseal(
                case.reporter_sealed,
                private,
                case_id=case.id,
                purpose=epochs.REPORTER_KEYS_PURPOSE,
            )
        )
    data_key = crypto.unwrap_key(
        crypto.reporter_key(canonical, case.salt),
        case.reporter_wrap,
        context=reporter_wrap_context(case.id),
    )
    return case, crypto.KeyEpochs.first(data_key)


# --- giving and taking access ----------------------------------------------------------------


async def grantable_staff(runtime: Runtime) -> list[Staff]:
    """Active staff whose rows agree with the verified directory: the only ones a case can be
    given to."""
    async with runtime.sessions() as session:
        state = await trusted.directory_state(session, runtime)
        result = await session.exec(
            select(Staff).where(col(Staff.active)).order_by(Staff.group_name, Staff.name)
        )
        people = list(result.all())
    if state is None:
        return []
    return [
        person
        for person in people
        if person.id in state.members
        and trusted.disagreement(state.members[person.id], person) is None
        and state.members[person.id].active
        and state.members[person.id].role != Role.CUSTODIAN
    ]


async def _grantee(session: AsyncSession, runtime: Runtime, staff_id: str) -> Grantee:
    person = await session.get(Staff, staff_id) if is_id(staff_id) else None
    if person is None or not person.active:
        raise InvalidInput(N_("There is no active staff member with this id."), field="staff_id")
    state = await trusted.directory_state(session, runtime)
    return Grantee(person, trusted.trusted_member(state, person))


@dataclass(frozen=True)
class Grantee:
    """A staff member a case may be given to, and their entry in the verified directory: the
    entry's group and key are the ones the routing rules and the sealing use."""

    staff: Staff
    member: Member


async def _holds(session: AsyncSession, case_id: str, staff_id: str) -> bool:
    found = await session.exec(
        select(CaseKey.id).where(CaseKey.case_id == case_id).where(CaseKey.staff_id == staff_id)
    )
    return found.first() is not None


async def _seal_to(
    session: AsyncSession, runtime: Runtime, case: Case, keys: crypto.KeyEpochs, grantee: Grantee
) -> None:
    person, member = grantee.staff, grantee.member
    # The two-person seal on a confidential identity: nobody holds the case and a custodian's half.
    halves = select(IdentityHalf.id).where(IdentityHalf.case_id == case.id)
    if member.role == Role.CUSTODIAN or (
        await session.exec(halves.where(IdentityHalf.custodian_id == person.id))
    ).first():
        raise Forbidden(
            N_("%(name)s is or was an identity custodian for this case: it cannot be given them."),
            name=person.name,
        )
    excluded = records.decrypt_exclusions(keys, case)
    refused = eligibility.refusal(case, person, member, excluded, runtime.settings)
    if refused is not None:
        raise refused
    session.add(
        CaseKey(
            case_id=case.id,
            staff_id=person.id,
            received_on=case.received_on,
            sealed=crypto.seal(
                keys.pack(),
                member.encryption_public,
                case_id=case.id,
                purpose=keyring.CASE_KEY_PURPOSE,
            ),
        )
    )


async def give(
    session: AsyncSession,
    runtime: Runtime,
    case: Case,
    keys: crypto.KeyEpochs,
    staff_id: str,
    *,
    actor: str,
    detail: dict[str, object],
) -> Staff:
    """Seal ``case``'s keys (opened by a holder, or by recovery) to ``staff_id`` under a grant's
    rules: someone the verified directory vouches for as they are, never a person the reporter
    excluded, never a member of the office the report is about. Audited as a grant, with
    ``detail``; the person is told by a notice."""
    grantee = await _grantee(session, runtime, staff_id)
    person = grantee.staff
    if await _holds(session, case.id, person.id):
        raise InvalidInput(
            N_("%(name)s has access to this case already."), field="staff_id", name=person.name
        )
    await _seal_to(session, runtime, case, keys, grantee)
    await audit.record(
        session,
        actor=actor,
        action="case.grant",
        case_ref=case.ref,
        detail={"to": person.email, **detail},
    )
    await mail.queue_notices(session, runtime.settings, [person])
    return person


async def grant(runtime: Runtime, signed_in: SignedIn, ref: str, staff_id: str) -> Staff:
    """Seal the case key to another staff member (unwrapped here, in this session)."""
    require_role(signed_in, "grant")
    async with db.transaction(runtime.sessions) as session:
        case, keys = await open_for_staff(session, signed_in, ref)
        return await give(session, runtime, case, keys, staff_id, actor=signed_in.actor, detail={})


async def revoke(runtime: Runtime, signed_in: SignedIn, ref: str, staff_id: str) -> None:
    """Remove a staff member's copy of the case key; the last staff holder always remains."""
    require_role(signed_in, "grant")
    async with db.transaction(runtime.sessions) as session:
        case, _ = await open_for_staff(session, signed_in, ref, for_update=True)
        person = await session.get(Staff, staff_id) if is_id(staff_id) else None
        if person is None or not await _holds(session, case.id, staff_id):
            raise InvalidInput(N_("This person has no access to this case."), field="staff_id")
        holders = (
            await session.exec(
                select(func.count())
                .select_from(CaseKey)
                .where(CaseKey.case_id == case.id)
                .where(col(CaseKey.staff_id).is_not(None))
            )
        ).one()
        if holders <= 1:
            raise InvalidInput(
                N_(
                    "This is the last person with access to this case: "
                    "give someone else access first."
                ),
                field="staff_id",
            )
        await remove_holder(session, case, staff_id)
        await audit.record(
            session,
            actor=signed_in.actor,
            action="case.revoke",
            case_ref=case.ref,
            detail={"from": person.email},
        )


async def remove_holder(session: AsyncSession, case: Case, staff_id: str) -> None:
    """Delete every copy of ``case``'s key that ``staff_id`` holds, and their assignment; what
    is written next is under a key they never had (intake/casework/epochs.py)."""
    await session.exec(
        delete(CaseKey)  # type: ignore[call-overload]
        .where(col(CaseKey.case_id) == case.id)
        .where(col(CaseKey.staff_id) == staff_id)
    )
    if case.assignee_id == staff_id:
        case.assignee_id = None
    case.rekey_due = True
    session.add(case)


async def assign(
    runtime: Runtime, signed_in: SignedIn, ref: str, staff_id: str | None
) -> Staff | None:
    """Assign the case (granting access first when needed), or clear the assignment."""
    require_role(signed_in, "assign")
    async with db.transaction(runtime.sessions) as session:
        case, keys = await open_for_staff(session, signed_in, ref, for_update=True)
        grantee = await _grantee(session, runtime, staff_id) if staff_id else None
        person = grantee.staff if grantee else None
        detail: dict[str, object] = {"to": person.email if person else None}
        if grantee is not None and not await _holds(session, case.id, grantee.staff.id):
            await _seal_to(session, runtime, case, keys, grantee)
            detail["granted"] = True
        case.assignee_id = person.id if person else None
        session.add(case)
        await audit.record(
            session, actor=signed_in.actor, action="case.assign", case_ref=case.ref, detail=detail
        )
        if person is not None and person.id != signed_in.staff.id:
            await mail.queue_notices(session, runtime.settings, [person])
    return person
