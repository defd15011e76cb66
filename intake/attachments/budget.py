"""The storage budget: how many attachment bytes reporters' anonymous requests may store.

Without it one anonymous request stores 200 MB in a second or two, and the submission limit
allows thousands a minute: a stranger could fill the disk and stop the service for everyone.
Three limits apply to files sent by reporters (a report's or a message's), never to a report or
message without files, never to staff, and never to what is already stored:

- an hourly budget (``QUIETLINE_ATTACHMENT_BUDGET_HOUR_BYTES``): the bytes stored in the hour now
  running, counted in the ``uploadhour`` row, which every process serving the database shares;
- a total budget (``QUIETLINE_ATTACHMENT_BUDGET_TOTAL_BYTES``): the bytes reporters' files hold in
  the database, summed from ``attachment.stored_bytes`` (the ciphertext's length, which the chunk
  rows show anyway), so retention's deletions give room back;
- a free-disk floor (``QUIETLINE_ATTACHMENT_MIN_FREE_BYTES``) on the data directory's disk,
  where uploads are staged (and the SQLite database lives).

They are checked twice. :func:`room` before the body is read, so the upload reader refuses file
bytes beyond the room left as they arrive (nothing is staged beyond it); and :func:`charge` in
the transaction that stores the files, after they are written and before the commit, under a
lock every process takes (PostgreSQL: a transaction-level advisory lock; SQLite has one writer),
so concurrent uploads in several processes cannot together overshoot. A refusal is a 507 and
rolls back the whole write: no case, no message, no file.

:func:`usage` says how full each budget is, for the administration page and the operator's log
(:meth:`Usage.alarms`, from 80%). The sum of an hour that has ended is deleted by the next upload
or by :func:`forget_past_hours` (``serve`` runs it every ten minutes), whichever comes first.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from intake.casework.vocabulary import Author
from intake.config import Settings
from intake.errors import QuietlineError
from intake.i18n import N_, Phrase, Size
from intake.runtime import Runtime
from intake.storage import db
from intake.storage.models import Attachment, Entry, UploadHour

ALARM_FRACTION = 0.8
"""How full a budget is when the operator is told (the log and the administration page)."""

# The key of the PostgreSQL advisory lock under which every process charges the budget.
_LOCK_KEY = 0x51_4C_42_55_44_47  # "QLBUDG"


class StorageFull(QuietlineError):
    """Files refused because the storage budget or the disk's floor is reached."""

    status = 507


def storage_full() -> StorageFull:
    return StorageFull(
        N_(
            "Files cannot be stored right now: the space set aside for files sent to this "
            "service is used up for the moment. Nothing was saved. You can send your text "
            "without the files now, and try the files again in an hour or more."
        )
    )


def current_hour(runtime: Runtime) -> int:
    """The hour now running, in hours since 1970 (UTC), on the runtime's clock."""
    return int(runtime.now().timestamp()) // 3600


def free_disk_bytes(settings: Settings) -> int:
    """Free space on the data directory's disk, for this (unprivileged) process."""
    directory = settings.data_dir if Path(settings.data_dir).exists() else Path("/")
    return shutil.disk_usage(directory).free


@dataclass(frozen=True)
class Usage:
    """How full each budget is. A limit of 0 is no limit."""

    hour_bytes: int
    hour_limit: int
    total_bytes: int
    total_limit: int
    free_bytes: int
    free_floor: int

    def room(self) -> int | None:
        """The file bytes reporters may still store now (``None``: no limit applies)."""
        rooms = [self.free_bytes - self.free_floor] if self.free_floor else []
        if self.hour_limit:
            rooms.append(self.hour_limit - self.hour_bytes)
        if self.total_limit:
            rooms.append(self.total_limit - self.total_bytes)
        return max(0, min(rooms)) if rooms else None

    def alarms(self) -> list[Phrase]:
        """What the operator is told: each budget at :data:`ALARM_FRACTION` or more."""
        return list(self.alarms_by_kind().values())

    def alarms_by_kind(self) -> dict[str, Phrase]:
        """The alarms keyed by budget: ``hour``, ``total``, ``disk``."""
        said: dict[str, Phrase] = {}
        if self.hour_limit and self.hour_bytes >= ALARM_FRACTION * self.hour_limit:
            said["hour"] = Phrase(
                N_(
                    "Reporters' files have used %(percent)s of this hour's storage budget "
                    "(%(used)s of %(limit)s); files beyond it are refused until the hour "
                    "ends."
                ),
                _shares(self.hour_bytes, self.hour_limit),
            )
        if self.total_limit and self.total_bytes >= ALARM_FRACTION * self.total_limit:
            said["total"] = Phrase(
                N_(
                    "Reporters' files have used %(percent)s of the total storage budget "
                    "(%(used)s of %(limit)s); once it is used up, new files are refused "
                    "until cases are deleted or QUIETLINE_ATTACHMENT_BUDGET_TOTAL_BYTES is "
                    "raised."
                ),
                _shares(self.total_bytes, self.total_limit),
            )
        if self.free_floor and self.free_bytes * ALARM_FRACTION <= self.free_floor:
            said["disk"] = Phrase(
                N_(
                    "The data directory's disk has %(free)s free; below %(floor)s, "
                    "reporters' files are refused."
                ),
                {"free": Size(self.free_bytes), "floor": Size(self.free_floor)},
            )
        return said


def _shares(used: int, limit: int) -> dict[str, object]:
    return {"percent": f"{used * 100 // limit}%", "used": Size(used), "limit": Size(limit)}


async def _hour_bytes(connection: AsyncConnection, hour: int) -> int:
    found = await connection.execute(
        select(UploadHour.stored_bytes).where(col(UploadHour.hour) == hour)
    )
    return int(found.scalar_one_or_none() or 0)


async def _total_bytes(connection: AsyncConnection) -> int:
    """The bytes of every file a reporter sent (an entry of theirs that no staff member
    entered on their behalf)."""
    found = await connection.execute(
        select(func.coalesce(func.sum(Attachment.stored_bytes), 0))
        .select_from(Attachment)
        .join(Entry, col(Entry.id) == col(Attachment.entry_id))
        .where(col(Entry.author) == Author.REPORTER)
        .where(col(Entry.staff_id).is_(None))
    )
    return int(found.scalar_one())


async def usage(runtime: Runtime) -> Usage:
    """How full each budget is now (two small reads and a ``statvfs``)."""
    settings = runtime.settings
    async with runtime.sessions() as session:
        connection = await session.connection()
        hour = await _hour_bytes(connection, current_hour(runtime))
        total = await _total_bytes(connection)
    return Usage(
        hour_bytes=hour,
        hour_limit=settings.attachment_budget_hour_bytes,
        total_bytes=total,
        total_limit=settings.attachment_budget_total_bytes,
        free_bytes=free_disk_bytes(settings),
        free_floor=settings.attachment_min_free_bytes,
    )


async def forget_past_hours(runtime: Runtime) -> None:
    """Delete the sums of hours that have ended: the row of the hour now running is the only
    one kept, so a copy of the database never shows in which earlier hour files came in."""
    async with db.transaction(runtime.sessions) as session:
        connection = await session.connection()
        await connection.execute(
            delete(UploadHour).where(col(UploadHour.hour) < current_hour(runtime))
        )


def _limited(settings: Settings) -> bool:
    return bool(
        settings.attachment_budget_hour_bytes
        or settings.attachment_budget_total_bytes
        or settings.attachment_min_free_bytes
    )


async def room(runtime: Runtime) -> int | None:
    """The file bytes a reporter's request may still send (``None``: no limit), read before
    its body. Concurrent requests may each see the same room; :func:`charge` settles it."""
    if not _limited(runtime.settings):
        return None
    return (await usage(runtime)).room()


async def charge(connection: AsyncConnection, runtime: Runtime, stored: int) -> None:
    """Count ``stored`` bytes of reporters' files, just written in the caller's transaction,
    against the budget; raise :class:`StorageFull` (the caller's transaction then rolls back)
    if they do not fit. Call it last before the commit: the lock it takes is held until then.
    """
    settings = runtime.settings
    if stored <= 0 or not _limited(settings):
        return
    if settings.attachment_min_free_bytes and (
        free_disk_bytes(settings) < settings.attachment_min_free_bytes
    ):
        raise storage_full()
    dialect = connection.dialect.name
    if dialect == "postgresql":
        await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    if settings.attachment_budget_hour_bytes:
        hour = current_hour(runtime)
        await connection.execute(delete(UploadHour).where(col(UploadHour.hour) != hour))
        insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(UploadHour)
        counted = await connection.execute(
            insert.values(hour=hour, stored_bytes=stored)
            .on_conflict_do_update(
                index_elements=["hour"],
                set_={"stored_bytes": UploadHour.stored_bytes + stored},  # type: ignore[operator]
            )
            .returning(UploadHour.stored_bytes)
        )
        if int(counted.scalar_one()) > settings.attachment_budget_hour_bytes:
            raise storage_full()
    if settings.attachment_budget_total_bytes:
        if await _total_bytes(connection) > settings.attachment_budget_total_bytes:
            raise storage_full()
