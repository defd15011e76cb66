"""Who receives a case.

A report goes to the officers of the default group (the solicitor's office).
A report that involves that office goes to the alternate group instead, and a
person the reporter excluded never receives it. There is no fallback: if the
right group has no one, the report is refused rather than sent to the wrong
people. The office recovery key always receives it too.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import bindparam, literal
from sqlalchemy import select as sa_select

from intake.casework.vocabulary import Role
from intake.config import Settings
from intake.errors import NoRecipients
from intake.i18n import N_
from intake.storage.models import RecoveryKey, Staff

RECEIVING_ROLES = (Role.OFFICER,)


@dataclass(frozen=True)
class KeyHolder:
    """Whoever a case key is sealed to: a staff member or the office recovery key."""

    id: str
    public_key: bytes
    # How a staff member wants notices (mail.NOTIFY_MODES); the recovery key gets none.
    notify_mode: str = "immediate"


@dataclass(frozen=True)
class Recipients:
    group: str
    staff: list[KeyHolder]
    recovery_key: KeyHolder


#: A route: whether the report involves the office, and whom the reporter excluded (sorted).
Route = tuple[bool, tuple[str, ...]]


def receiving_group(settings: Settings, *, involves_office: bool) -> str:
    return settings.alternate_group if involves_office else settings.default_group


def group_display_name(settings: Settings, group: str) -> str:
    """The name people read for a group, as a catalog message id (translate it to show it): the
    receiving groups by what they are; any other group by its id, which is all it has."""
    if group == settings.default_group:
        return N_("the solicitor's office")
    if group == settings.alternate_group:
        return N_("the alternate recipients")
    return group


# Every report reads its key holders: the officers of both receiving groups and the active
# recovery key, in one Core statement (filing adds its other reads to it: see
# intake/casework/filing.py).
_STAFF = Staff.__table__  # type: ignore[attr-defined]
_RECOVERY = RecoveryKey.__table__  # type: ignore[attr-defined]
_NEWEST_RECOVERY = (
    sa_select(_RECOVERY.c.id, _RECOVERY.c.public_key)
    .where(_RECOVERY.c.active)
    .order_by(_RECOVERY.c.created_on.desc())
    .limit(1)
    .subquery()
)
HOLDER, RECOVERY = "holder", "recovery"
#: Rows of (what, id, public_key, group_name, sort_key, notify_mode): HOLDER for each receiving
#: officer of the groups in the ``groups`` parameter, RECOVERY for the active recovery key.
KEY_HOLDERS = (
    sa_select(
        literal(HOLDER).label("what"),
        _STAFF.c.id,
        _STAFF.c.public_key,
        _STAFF.c.group_name,
        _STAFF.c.email.label("sort_key"),
        _STAFF.c.notify_mode,
    )
    .where(_STAFF.c.group_name.in_(bindparam("groups", expanding=True)))
    .where(_STAFF.c.active)
    .where(_STAFF.c.role.in_(RECEIVING_ROLES)),
    sa_select(
        literal(RECOVERY),
        _NEWEST_RECOVERY.c.id,
        _NEWEST_RECOVERY.c.public_key,
        literal(""),
        literal(""),
        literal("immediate"),
    ),
)


def receiving_groups(settings: Settings) -> list[str]:
    """Every group a report may go to: the ``groups`` parameter of :data:`KEY_HOLDERS`."""
    return [settings.default_group, settings.alternate_group]


class KeyHolderRow(Protocol):
    @property
    def what(self) -> str: ...
    @property
    def id(self) -> str: ...
    @property
    def public_key(self) -> bytes: ...
    @property
    def group_name(self) -> str: ...
    @property
    def sort_key(self) -> str: ...
    @property
    def notify_mode(self) -> str: ...


def recipients_from(
    rows: Iterable[KeyHolderRow],
    settings: Settings,
    *,
    involves_office: bool,
    excluded_staff_ids: Collection[str] = (),
) -> Recipients:
    """Who receives a report, from the rows of :data:`KEY_HOLDERS` read in its transaction."""
    group = receiving_group(settings, involves_office=involves_office)
    rows = list(rows)
    staff = [
        KeyHolder(id=row.id, public_key=row.public_key, notify_mode=row.notify_mode)
        for row in sorted(rows, key=lambda row: row.sort_key)
        if row.what == HOLDER and row.group_name == group and row.id not in excluded_staff_ids
    ]
    if not staff:
        raise NoRecipients(
            N_(
                "This service cannot take reports of this kind yet: no one is set up to receive "
                "them. Nothing was saved. Please try again later or use another channel."
            )
        )
    recovery = next((row for row in rows if row.what == RECOVERY), None)
    if recovery is None:
        raise NoRecipients(
            N_(
                "This service is not fully set up yet (it has no recovery key). Nothing was "
                "saved. Please try again later or use another channel."
            )
        )
    return Recipients(
        group=group,
        staff=staff,
        recovery_key=KeyHolder(id=recovery.id, public_key=recovery.public_key),
    )
