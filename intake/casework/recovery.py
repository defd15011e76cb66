"""Recovery: a case opened with k custodians' shares of its group's recovery key.

Recovery is for when the people who should open a case cannot: every holder is gone, an
account was reset, a court asks for the case. It reads k shares of the recovery key of the
group the case was routed to (one share a line), puts the key together in this process only,
checks it against the verified recipient directory (intake/accounts/custody.py) and opens the
case's copy sealed to it. Nothing of the key or the shares is stored, logged or audited.

A case that an active staff member still holds is refused unless the operator states why
recovery is needed anyway (``--force "REASON"``): recovery goes around the people routing chose,
so it is the exception, and the reason is in the audit log with the case reference.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

import crypto
from intake.accounts import custody, keyring, trusted
from intake.casework import access
from intake.errors import CaseNotFound, Forbidden, InvalidInput
from intake.i18n import N_
from intake.runtime import Runtime
from intake.storage import db
from intake.storage.models import Case, Staff

RECOVERY_ACTOR = "cli"
REASON_LIMIT = 500

STILL_HELD = N_(
    "An active staff member still holds this case and can open it: ask them first. To recover "
    'it anyway, state why (--force "REASON"); the reason is kept in the audit log.'
)


@dataclass(frozen=True, repr=False)
class Recovered:
    """A case opened by recovery, for one operation."""

    case: Case
    group: str
    forced_reason: str | None
    keys: crypto.KeyEpochs = field(repr=False)

    def audit_detail(self) -> dict[str, object]:
        """What the audit log keeps of a recovery: never a share or a key."""
        return {"by": "recovery shares", "group": self.group, "reason": self.forced_reason}


def checked_reason(reason: str | None) -> str | None:
    """The reason given with ``--force``, stripped; InvalidInput when empty, too long or holding
    control characters (it goes into the audit log as written)."""
    if reason is None:
        return None
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput(N_("Give the reason for recovering a case that is still held."))
    if len(reason) > REASON_LIMIT or not reason.isprintable():
        raise InvalidInput(
            N_("The reason must be one line of plain text, at most %(limit)s characters."),
            limit=REASON_LIMIT,
        )
    return reason


async def _case(session: AsyncSession, ref: str) -> Case:
    ref = ref.strip().upper()
    case = (
        (await session.exec(select(Case).where(Case.ref == ref).with_for_update())).first()
        if access.REF_PATTERN.fullmatch(ref)
        else None
    )
    if case is None or case.purged_on is not None:
        raise CaseNotFound(N_("There is no case with this reference (or it was deleted)."))
    return case


async def open_case(
    session: AsyncSession,
    runtime: Runtime,
    *,
    ref: str,
    shares: Iterable[str],
    force_reason: str | None,
) -> Recovered:
    """The case and its data key, opened with ``shares`` of its group's recovery key.

    Refused, changing nothing, for an unknown case, shares that do not put together a recovery
    key the verified directory declares for the case's group (too few, mistyped, of another
    key), a case not sealed to that key, and a case an active staff member still holds unless
    ``force_reason`` says why.
    """
    reason = checked_reason(force_reason)
    case = await _case(session, ref)
    state = await trusted.directory_state(session, runtime)
    opened = custody.open_recovery_key(state, case.group_name, shares)
    keys = await access.open_with_recovery_key(
        session, case, opened.private, opened.declared.public
    )
    if reason is None and await access.active_holders(session, case.id):
        raise Forbidden(STILL_HELD)
    return Recovered(case=case, group=opened.group, forced_reason=reason, keys=keys)


async def regrant(
    runtime: Runtime,
    *,
    ref: str,
    email: str,
    shares: Iterable[str],
    force_reason: str | None,
) -> Staff:
    """Seal a case, opened with its group's recovery shares, to the staff member ``email``:
    after a reset, or when no holder is left. The grant's rules apply (the verified directory,
    the reporter's exclusions, the office rule); audited as a grant by recovery."""
    async with db.transaction(runtime.sessions) as session:
        person = await keyring.staff_by_email(session, email)
        if person is None or not person.active:
            raise InvalidInput(N_("There is no active staff member with this email address."))
        recovered = await open_case(
            session, runtime, ref=ref, shares=shares, force_reason=force_reason
        )
        return await access.give(
            session,
            runtime,
            recovered.case,
            recovered.keys,
            person.id,
            actor=RECOVERY_ACTOR,
            detail=recovered.audit_detail(),
        )
