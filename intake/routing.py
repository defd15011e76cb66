"""Who receives a case.

A report goes to the officers of the default group (the solicitor's office).
A report that involves that office goes to the alternate group instead, and a
person the reporter excluded never receives it. There is no fallback: if the
right group has no one, the report is refused rather than sent to the wrong
people. The office recovery key always receives it too.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.config import Settings
from intake.errors import NoRecipients
from intake.models import RecoveryKey, Staff

RECEIVING_ROLES = ("officer",)


@dataclass(frozen=True)
class Recipients:
    group: str
    staff: list[Staff]
    recovery_key: RecoveryKey


def receiving_group(settings: Settings, *, involves_office: bool) -> str:
    return settings.alternate_group if involves_office else settings.default_group


async def active_recovery_key(session: AsyncSession) -> RecoveryKey | None:
    result = await session.exec(
        select(RecoveryKey)
        .where(col(RecoveryKey.active))
        .order_by(col(RecoveryKey.created_on).desc())
    )
    return result.first()


async def recipients_for(
    session: AsyncSession,
    settings: Settings,
    *,
    involves_office: bool,
    excluded_staff_ids: Collection[str] = (),
) -> Recipients:
    group = receiving_group(settings, involves_office=involves_office)
    result = await session.exec(
        select(Staff)
        .where(Staff.group_name == group)
        .where(col(Staff.active))
        .where(col(Staff.role).in_(RECEIVING_ROLES))
        .order_by(Staff.email)
    )
    staff = [person for person in result.all() if person.id not in excluded_staff_ids]
    if not staff:
        raise NoRecipients(
            "This service cannot take reports of this kind yet: no one is set up to receive "
            "them. Nothing was saved. Please try again later or use another channel."
        )
    recovery_key = await active_recovery_key(session)
    if recovery_key is None:
        raise NoRecipients(
            "This service is not fully set up yet (it has no recovery key). Nothing was saved. "
            "Please try again later or use another channel."
        )
    return Recipients(group=group, staff=staff, recovery_key=recovery_key)
