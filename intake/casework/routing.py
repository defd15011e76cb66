"""Who receives a case.

A report goes to the officers of the default group (the solicitor's office).
A report that involves that office goes to the alternate group instead, and a
person the reporter excluded never receives it. There is no fallback: if the
right group has no one, the report is refused rather than sent to the wrong
people. The receiving group's recovery key always receives it too.

Every one of those facts comes from the verified recipient directory
(intake/accounts/directory.py), never from the staff or recovery-key rows alone: a
row is used only where it agrees with the directory (the same group, an active
officer, the same public key), and the key sealed to is the directory's. Whoever can
write the database can therefore stop a row from receiving, never make one receive.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import NoReturn, Protocol

from sqlalchemy import String, bindparam, cast, literal
from sqlalchemy import select as sa_select

from intake.accounts.directory_rules import DirectoryState
from intake.casework.vocabulary import Role
from intake.config import Settings
from intake.errors import InvalidInput, NoRecipients
from intake.i18n import N_
from intake.storage.models import DirectoryEntry, RecoveryKey, Staff

RECEIVING_ROLES = (Role.OFFICER,)


@dataclass(frozen=True)
class KeyHolder:
    """Whoever a case key is sealed to: a staff member or a group's recovery key."""

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


# Every report reads its key holders: the officers of both receiving groups, the recovery keys
# and the directory's newest entry, in one Core statement (filing adds its other reads to it: see
# intake/casework/filing_read.py). The rows are candidates: the verified directory decides.
_STAFF = Staff.__table__  # type: ignore[attr-defined]
_RECOVERY = RecoveryKey.__table__  # type: ignore[attr-defined]
_DIRECTORY = DirectoryEntry.__table__  # type: ignore[attr-defined]
_NEWEST_ENTRY = (
    sa_select(_DIRECTORY.c.position, _DIRECTORY.c.previous)
    .order_by(_DIRECTORY.c.position.desc())
    .limit(1)
    .subquery()
)
HOLDER, RECOVERY, DIRECTORY_HEAD = "holder", "recovery", "directory"
#: Rows of (what, id, public_key, group_name, sort_key, notify_mode): HOLDER for each active
#: officer row of the groups in the ``groups`` parameter, RECOVERY for each recovery key row, and
#: one DIRECTORY_HEAD whose id is the newest entry's position and public_key its ``previous``.
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
        _RECOVERY.c.id,
        _RECOVERY.c.public_key,
        literal(""),
        literal(""),
        literal("immediate"),
    ),
    sa_select(
        literal(DIRECTORY_HEAD),
        cast(_NEWEST_ENTRY.c.position, String),
        _NEWEST_ENTRY.c.previous,
        literal(""),
        literal(""),
        literal(""),
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


NOT_SET_UP = N_(
    "This service is not fully set up yet (its recipient directory is missing or does not "
    "verify). Nothing was saved. Please try again later or use another channel."
)


def refuse_not_set_up() -> NoReturn:
    """Refuse what needs the verified directory while there is none (503, nothing saved)."""
    raise NoRecipients(NOT_SET_UP)


def routable_officers(
    rows: Iterable[KeyHolderRow], directory: DirectoryState, group: str
) -> list[KeyHolder]:
    """The officers of ``group`` the directory names, whose staff row agrees with it, sorted by
    email; each with the directory's public key."""
    found = []
    for row in sorted(rows, key=lambda row: row.sort_key):
        if row.what != HOLDER or row.group_name != group:
            continue
        member = directory.members.get(row.id)
        if (
            member is None
            or not member.active
            or member.role != Role.OFFICER
            or member.group != group
            or member.encryption_public != row.public_key
        ):
            continue  # the row disagrees with the directory: it receives nothing
        found.append(
            KeyHolder(id=row.id, public_key=member.encryption_public, notify_mode=row.notify_mode)
        )
    return found


def notified_officers(
    rows: Iterable[KeyHolderRow], directory: DirectoryState, settings: Settings
) -> list[KeyHolder]:
    """Every receiving officer of every receiving group: told of each new report, whatever its
    routing, so the mail system cannot tell one route from another."""
    rows = list(rows)
    return [
        person
        for group in receiving_groups(settings)
        for person in routable_officers(rows, directory, group)
    ]


def recipients_from(
    rows: Iterable[KeyHolderRow],
    directory: DirectoryState | None,
    settings: Settings,
    *,
    involves_office: bool,
    excluded_staff_ids: Collection[str] = (),
) -> Recipients:
    """Who receives a report, from the rows of :data:`KEY_HOLDERS` read in its transaction and
    the verified directory (None: there is none, or it does not verify)."""
    if directory is None:
        refuse_not_set_up()
    group = receiving_group(settings, involves_office=involves_office)
    rows = list(rows)
    officers = routable_officers(rows, directory, group)
    staff = [person for person in officers if person.id not in excluded_staff_ids]
    if officers and not staff:
        # The reporter's own choice leaves nobody: theirs to change, not a fault of the service.
        raise InvalidInput(
            N_(
                "You asked that every person who receives reports of this kind never receive "
                "this one, so nobody could read it. Nothing was saved. Leave at least one of "
                "them unticked, or use another channel."
            ),
            field="exclude",
        )
    if not staff:
        raise NoRecipients(
            N_(
                "This service cannot take reports of this kind yet: no one is set up to receive "
                "them. Nothing was saved. Please try again later or use another channel."
            )
        )
    declared = directory.recovery.get(group)
    recovery = next(
        (
            row
            for row in rows
            if row.what == RECOVERY
            and declared is not None
            and row.public_key == declared.public
        ),
        None,
    )
    if recovery is None or declared is None:
        raise NoRecipients(
            N_(
                "This service is not fully set up yet (it has no recovery key). Nothing was "
                "saved. Please try again later or use another channel."
            )
        )
    return Recipients(
        group=group,
        staff=staff,
        recovery_key=KeyHolder(id=recovery.id, public_key=declared.public),
    )
