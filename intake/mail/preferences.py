"""A staff member's choice of email: notices after each event (delayed), or the daily digest.

Used by the staff page and API (for oneself) and by ``quietline staff notify``;
every change is audited.
"""

from __future__ import annotations

from intake.errors import InvalidInput
from intake.i18n import N_
from intake.mail.outbox import set_notify_mode
from intake.operations import audit
from intake.runtime import Runtime
from intake.storage import db
from intake.storage.models import Staff


async def choose_notify_mode(runtime: Runtime, staff_id: str, mode: str, *, actor: str) -> Staff:
    async with db.transaction(runtime.sessions) as session:
        person = await session.get(Staff, staff_id)
        if person is None:
            raise InvalidInput(N_("There is no such staff member."), field="staff_id")
        await set_notify_mode(session, person, mode)
        await audit.record(
            session,
            actor=actor,
            action="staff.notify",
            detail={"staff": person.email, "mode": mode},
        )
    return person
