"""Officers and administrators approving or refusing pending directory changes, signed in.

Approving signs the change with the signer's own Ed25519 key, unlocked in their session; only a
person the change's rule names may sign (an administrator never completes their own proposal:
the rule asks for officers besides them). The change takes effect through
:func:`intake.casework.holders.approve_change`, the one way a change is signed, which makes the
staff row follow it and re-checks the member's cases. Refusing is for officers of the group the
change is in and for administrators: it takes nothing away from anyone, so one person may do it.

Each decision is audited with the change, who proposed it, who decided, and the member's values
before and after.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.accounts import change_review, directory
from intake.accounts.change_review import ChangeReview, Standing
from intake.accounts.directory import ChangeOutcome
from intake.accounts.sessions import NO_SIGNING_KEY, SignedIn
from intake.casework import holders
from intake.errors import Forbidden, InvalidInput
from intake.i18n import N_
from intake.operations import audit
from intake.runtime import Runtime
from intake.storage import db

NOT_NAMED = N_(
    "You cannot approve this change: its rule asks for the approval of other people (the page "
    "Directory changes names them)."
)
ALREADY_SIGNED = N_(
    "You have approved this change already: it waits for the others its rule names."
)
STALE = N_(
    "Another change took effect after this one was first approved, so the approvals given no "
    "longer hold: refuse it, and ask for it to be proposed again."
)
NOT_YOURS_TO_REFUSE = N_(
    "Only the officers of the group this change is in, and administrators, can refuse it; "
    "never the person it is about."
)


def _values(standing: Standing | None) -> dict[str, Any] | None:
    if standing is None:
        return None
    return {
        "group": standing.group,
        "role": standing.role,
        "label": standing.label,
        "active": standing.active,
    }


def audit_detail(seen: ChangeReview, **more: Any) -> dict[str, Any]:
    """What the audit log keeps of a decision: the change and the values it sets."""
    detail: dict[str, Any] = {
        "change": seen.id,
        "kind": seen.kind,
        "proposer": seen.proposed_by,
        "group": seen.group,
        **more,
    }
    if seen.kind == "member":
        detail["member"] = seen.member.email if seen.member else None
        detail["before"] = _values(seen.before)
        detail["after"] = _values(seen.after)
        detail["keys_change"] = seen.keys_change
    return detail


# One PostgreSQL advisory lock for every signed-in decision on the directory (the key is the
# first 8 bytes of SHA-256 of "quietline/directory-decisions", as a signed 64-bit integer).
_PG_DECISIONS_LOCK = int.from_bytes(
    hashlib.sha256(b"quietline/directory-decisions").digest()[:8], "big", signed=True
)


async def _serialise(session: AsyncSession) -> None:
    """Decide one change at a time, so two approvals at once both count (each reads the
    signatures the other wrote rather than overwriting them) and two changes taking effect at
    once do not both claim the directory's next position. SQLite has one writer already."""
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await connection.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_DECISIONS_LOCK}
        )


async def approve(runtime: Runtime, me: SignedIn, change_id: str) -> ChangeOutcome:
    """Sign a pending change as ``me``; "applied" once its rule is satisfied, else "pending"."""
    if me.signing_key is None:
        raise InvalidInput(NO_SIGNING_KEY)
    async with db.transaction(runtime.sessions) as session:
        await _serialise(session)
        seen = await change_review.one_review(session, runtime, me, change_id)
        if seen.stale:
            raise InvalidInput(STALE)
        if me.staff.id in {person.id for person in seen.signed}:
            raise InvalidInput(ALREADY_SIGNED)
        if not seen.may_sign:
            raise Forbidden(NOT_NAMED)
        outcome = await holders.approve_change(
            session, runtime, change_id, signer=me.staff.id, signing_private=me.signing_key
        )
        await audit.record(
            session,
            actor=me.actor,
            action="directory.approve",
            detail=audit_detail(seen, approver=me.actor, outcome=outcome),
        )
    return outcome


async def refuse(runtime: Runtime, me: SignedIn, change_id: str) -> None:
    """Refuse a pending change: it leaves the pending list and never takes effect."""
    async with db.transaction(runtime.sessions) as session:
        await _serialise(session)
        seen = await change_review.one_review(session, runtime, me, change_id)
        if not seen.may_refuse:
            raise Forbidden(NOT_YOURS_TO_REFUSE)
        await directory.refuse(session, change_id)
        await audit.record(
            session,
            actor=me.actor,
            action="directory.refuse",
            detail=audit_detail(seen, refuser=me.actor),
        )
