"""Opening a confidential reporter's identity: an officer asks, an identity custodian decides.

An officer who holds the case asks with a reason. The reason is encrypted with the case key for
the case's holders and sealed to each custodian holding a half of the identity key; a custodian
reads only the reason, the case reference and the requester's role, never the case or the
identity. A custodian who approves opens their half in their session and seals it to the
requesting officer's key as the verified directory names it; that officer, and nobody else, can
then open the identity with the officers' half their case key gives (intake/casework/identity.py).
The request and the decision are both audited, so they appear in the case's history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

import crypto
from intake.accounts import trusted
from intake.accounts.sessions import SignedIn
from intake.casework import access, records
from intake.casework.identity import (
    CUSTODIANS_HALF_PURPOSE,
    OFFICERS_HALF_FIELD,
    GivenIdentity,
    custodians,
)
from intake.casework.vocabulary import Role
from intake.errors import Forbidden, InvalidInput
from intake.i18n import N_
from intake.operations import audit
from intake.runtime import Runtime
from intake.storage import db
from intake.storage.models import (
    Case,
    CaseIdentity,
    CaseKey,
    IdentityHalf,
    IdentityReason,
    IdentityRequest,
    Staff,
    is_id,
)

REASON_PURPOSE = "identity-reason"
MAX_REASON_CHARS = 2000
#: The roles that may ask for a confidential reporter's identity (on a case they hold).
REQUESTING_ROLES = (Role.OFFICER, Role.ADMIN)

NOT_CONFIDENTIAL = N_("The reporter of this case has given no identity that could be opened.")
NO_SUCH_REQUEST = N_("No request waiting for your decision has this id.")


def release_purpose(request_id: str) -> str:
    """What the half released to a requester is bound to: this request."""
    return f"identity-release:{request_id}"


def _reason_field(request_id: str) -> str:
    return f"identity-reason:{request_id}"


def _require_requester(signed_in: SignedIn) -> None:
    if signed_in.staff.role not in REQUESTING_ROLES:
        raise Forbidden(N_("Your role cannot ask to open a reporter's identity."))


def _require_custodian(signed_in: SignedIn) -> None:
    if signed_in.staff.role != Role.CUSTODIAN:
        raise Forbidden(N_("Only identity custodians decide requests to open an identity."))


async def request(runtime: Runtime, signed_in: SignedIn, ref: str, reason: str) -> str:
    """Ask to open the case's identity, saying why; the request's id."""
    _require_requester(signed_in)
    reason = records.check_text(
        reason, limit=MAX_REASON_CHARS, what="text", field_name="reason"
    ).strip()
    async with db.transaction(runtime.sessions) as session:
        case, keys = await access.open_for_staff(session, signed_in, ref, for_update=True)
        held = await session.get(CaseIdentity, case.id)
        if held is None or held.sealed is None:
            raise InvalidInput(NOT_CONFIDENTIAL)
        waiting = await session.exec(
            select(IdentityRequest.id)
            .where(IdentityRequest.case_id == case.id)
            .where(IdentityRequest.requester_id == signed_in.staff.id)
            .where(IdentityRequest.status == "pending")
        )
        if waiting.first() is not None:
            raise InvalidInput(
                N_("Your earlier request for this identity is still waiting for a custodian.")
            )
        state = await trusted.directory_state(session, runtime)
        halves = set(
            (
                await session.exec(
                    select(IdentityHalf.custodian_id).where(IdentityHalf.case_id == case.id)
                )
            ).all()
        )
        holders = set(
            (await session.exec(select(CaseKey.staff_id).where(CaseKey.case_id == case.id))).all()
        )
        # Only the custodians the rules let hold it: the others hold a random value.
        asked = [
            member
            for member in custodians(
                state,
                runtime.settings,
                holders={holder for holder in holders if holder},
                excluded=records.decrypt_exclusions(keys, case),
                involves_office=case.involves_office,
            )
            if member.staff_id in halves
        ]
        if not asked:
            raise InvalidInput(
                N_("No identity custodian who holds this identity's half is active any more.")
            )
        asked_request = IdentityRequest(
            case_id=case.id,
            requester_id=signed_in.staff.id,
            requester_role=signed_in.staff.role,
            requested_at=runtime.now(),
            reason=b"",
            reason_epoch=keys.current,
        )
        asked_request.reason = crypto.encrypt_field(
            keys.latest, reason.encode(), case_id=case.id, field=_reason_field(asked_request.id)
        )
        session.add(asked_request)
        await session.flush()
        for member in asked:
            session.add(
                IdentityReason(
                    request_id=asked_request.id,
                    custodian_id=member.staff_id,
                    sealed=crypto.seal(
                        reason.encode(),
                        member.encryption_public,
                        case_id=case.id,
                        purpose=REASON_PURPOSE,
                    ),
                )
            )
        await audit.record(
            session,
            actor=signed_in.actor,
            action="identity.requested",
            case_ref=case.ref,
            detail={"role": signed_in.staff.role},
        )
        return asked_request.id


@dataclass(frozen=True)
class Waiting:
    """A request as a custodian sees it: the reason, the case reference, the requester's role."""

    id: str
    ref: str
    requester_role: str
    requested_on: date
    reason: str


async def waiting_for(runtime: Runtime, signed_in: SignedIn) -> list[Waiting]:
    """The pending requests sealed to this custodian, oldest first."""
    _require_custodian(signed_in)
    async with runtime.sessions() as session:
        rows = (
            await session.exec(
                select(IdentityRequest, IdentityReason.sealed, Case.ref, Case.id)
                .join(IdentityReason, col(IdentityReason.request_id) == col(IdentityRequest.id))
                .join(Case, col(Case.id) == col(IdentityRequest.case_id))
                .where(IdentityReason.custodian_id == signed_in.staff.id)
                .where(IdentityRequest.status == "pending")
                .order_by(col(IdentityRequest.requested_at))
            )
        ).all()
    found = []
    for asked, sealed, ref, case_id in rows:
        try:
            reason = crypto.unseal(
                sealed, signed_in.private_key, case_id=case_id, purpose=REASON_PURPOSE
            ).decode("utf-8")
        except crypto.DecryptionError:
            continue  # sealed to a key this custodian no longer has
        found.append(
            Waiting(
                id=asked.id,
                ref=ref,
                requester_role=asked.requester_role,
                requested_on=asked.requested_at.date(),
                reason=reason,
            )
        )
    return found


async def decide(runtime: Runtime, signed_in: SignedIn, request_id: str, *, approve: bool) -> str:
    """Approve (seal this custodian's half to the requester) or refuse; the case reference."""
    _require_custodian(signed_in)
    async with db.transaction(runtime.sessions) as session:
        asked = (
            (
                await session.exec(
                    select(IdentityRequest)
                    .where(IdentityRequest.id == request_id)
                    .with_for_update()
                )
            ).first()
            if is_id(request_id)
            else None
        )
        reason_row = (
            await session.get(IdentityReason, (request_id, signed_in.staff.id))
            if asked is not None
            else None
        )
        if asked is None or reason_row is None or asked.status != "pending":
            raise InvalidInput(NO_SUCH_REQUEST, field="request")
        case = await session.get(Case, asked.case_id)
        assert case is not None
        if approve:
            asked.released = await _release(session, runtime, signed_in, asked, case)
        asked.status = "approved" if approve else "refused"
        asked.decided_by = signed_in.staff.id
        asked.decided_at = runtime.now()
        asked.decided_on = runtime.today()
        session.add(asked)
        await audit.record(
            session,
            actor=signed_in.actor,
            action="identity.approved" if approve else "identity.refused",
            case_ref=case.ref,
            detail={"role": asked.requester_role},
        )
        return case.ref


async def _release(
    session: AsyncSession, runtime: Runtime, signed_in: SignedIn, asked: IdentityRequest, case: Case
) -> bytes:
    """This custodian's half, opened in their session and sealed to the requester as the
    verified directory names them, while the requester still holds the case."""
    half_row = (
        await session.exec(
            select(IdentityHalf)
            .where(IdentityHalf.case_id == case.id)
            .where(IdentityHalf.custodian_id == signed_in.staff.id)
        )
    ).first()
    if half_row is None:
        raise InvalidInput(N_("You hold no half of this identity: it may have been withdrawn."))
    requester = await session.get(Staff, asked.requester_id)
    state = await trusted.directory_state(session, runtime)
    holds = (
        await session.exec(
            select(CaseKey.id)
            .where(CaseKey.case_id == case.id)
            .where(CaseKey.staff_id == asked.requester_id)
        )
    ).first()
    if requester is None or holds is None or requester.id == signed_in.staff.id:
        raise InvalidInput(N_("The person who asked no longer holds this case."))
    member = trusted.trusted_member(state, requester)
    try:
        half = crypto.unseal(
            half_row.sealed, signed_in.private_key, case_id=case.id, purpose=CUSTODIANS_HALF_PURPOSE
        )
    except crypto.DecryptionError:
        raise InvalidInput(
            N_("Your half of this identity was sealed to a key you no longer have.")
        ) from None
    return crypto.seal(
        half, member.encryption_public, case_id=case.id, purpose=release_purpose(asked.id)
    )


# --- what a case's holder sees ---------------------------------------------------------------


@dataclass(frozen=True)
class MyRequest:
    status: str
    requested_on: date
    decided_on: date | None
    reason: str


@dataclass(frozen=True)
class CaseIdentityView:
    """The identity section of the case page, for one holder."""

    given_on: date | None = None
    withdrawn_on: date | None = None
    requests: tuple[MyRequest, ...] = ()
    opened: GivenIdentity | None = None
    may_request: bool = False

    @property
    def held(self) -> bool:
        return self.given_on is not None and self.withdrawn_on is None

    @property
    def waiting(self) -> bool:
        return any(asked.status == "pending" for asked in self.requests)


async def for_holder(runtime: Runtime, signed_in: SignedIn, ref: str) -> CaseIdentityView:
    """The case's identity as this holder may see it: opened (in memory) where a custodian
    released their half to them."""
    async with runtime.sessions() as session:
        case, keys = await access.open_for_staff(session, signed_in, ref)
        held = await session.get(CaseIdentity, case.id)
        if held is None:
            return CaseIdentityView()
        mine = (
            await session.exec(
                select(IdentityRequest)
                .where(IdentityRequest.case_id == case.id)
                .where(IdentityRequest.requester_id == signed_in.staff.id)
                .order_by(col(IdentityRequest.requested_at))
            )
        ).all()
    requests = tuple(
        MyRequest(
            status=asked.status,
            requested_on=asked.requested_at.date(),
            decided_on=asked.decided_on,
            reason=crypto.decrypt_field(
                keys.of(asked.reason_epoch),
                asked.reason,
                case_id=case.id,
                field=_reason_field(asked.id),
            ).decode("utf-8"),
        )
        for asked in mine
    )
    opened = None
    released = [asked for asked in mine if asked.released is not None]
    if held.sealed is not None and held.officers_half is not None and released:
        opened = _open(signed_in, case, held, keys, released[-1])
    return CaseIdentityView(
        given_on=held.given_on,
        withdrawn_on=held.withdrawn_on,
        requests=requests,
        opened=opened,
        may_request=signed_in.staff.role in REQUESTING_ROLES and held.sealed is not None,
    )


def _open(
    signed_in: SignedIn,
    case: Case,
    held: CaseIdentity,
    keys: crypto.KeyEpochs,
    released: IdentityRequest,
) -> GivenIdentity | None:
    assert held.sealed is not None and held.officers_half is not None
    assert released.released is not None
    try:
        officers_half = crypto.decrypt_field(
            keys.of(held.epoch), held.officers_half, case_id=case.id, field=OFFICERS_HALF_FIELD
        )
        custodians_half = crypto.unseal(
            released.released,
            signed_in.private_key,
            case_id=case.id,
            purpose=release_purpose(released.id),
        )
        return GivenIdentity.from_bytes(
            crypto.open_identity(
                held.sealed,
                officers_half=officers_half,
                custodians_half=custodians_half,
                case_id=case.id,
            )
        )
    except crypto.DecryptionError:
        return None  # released for an identity the reporter since replaced
