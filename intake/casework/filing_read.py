"""What filing reads once per transaction, in one statement.

Each statement is a round trip, and the writer waits behind every request the event loop has
ready, so filing reads everything it checks a batch of reports against at once: the key holders
of both receiving groups and the directory's head (``routing.KEY_HOLDERS``), the open categories
and the stored deadline rules. The verified directory comes from memory while its head is the one
read (:func:`intake.accounts.directory.state_at`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import literal, null, union_all
from sqlalchemy import select as sa_select
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.accounts import directory
from intake.accounts.directory_rules import DirectoryInvalid, DirectoryState
from intake.casework import deadline_settings, routing
from intake.config import Settings
from intake.deadlines import DeadlineRules
from intake.runtime import Runtime
from intake.storage.models import Category, Setting

_CATEGORY_TABLE = Category.__table__  # type: ignore[attr-defined]
_SETTING_TABLE = Setting.__table__  # type: ignore[attr-defined]
_CATEGORY, _DEADLINES = "category", "deadlines"
_FILING_READ = union_all(
    *routing.KEY_HOLDERS,
    sa_select(
        literal(_CATEGORY), _CATEGORY_TABLE.c.id, null(), literal(""), literal(""), literal("")
    ).where(_CATEGORY_TABLE.c.active),
    sa_select(
        literal(_DEADLINES), _SETTING_TABLE.c.value, null(), literal(""), literal(""), literal("")
    ).where(_SETTING_TABLE.c.key == deadline_settings.KEY),
)


@dataclass
class FilingRead:
    """What one filing transaction read: the reports of its batch are checked against it."""

    open_categories: set[str]
    rules: DeadlineRules
    holders: list[routing.KeyHolderRow]  # rows of routing.KEY_HOLDERS
    directory: DirectoryState | None  # None: there is none, or it does not verify
    routes: dict[routing.Route, routing.Recipients] = field(default_factory=dict)
    # Who is told of a new report: the same for every report of the batch.
    notified_officers: list[routing.KeyHolder] | None = None

    def excludable(self) -> set[str]:
        """The staff ids a reporter may exclude: the directory's labelled active members."""
        if self.directory is None:
            return set()
        return {m.staff_id for m in self.directory.members.values() if m.active and m.label}

    def notified(self, settings: Settings) -> list[routing.KeyHolder]:
        if self.directory is None:
            return []
        if self.notified_officers is None:
            self.notified_officers = routing.notified_officers(
                self.holders, self.directory, settings
            )
        return self.notified_officers

    def recipients(
        self, settings: Settings, *, involves_office: bool, excluded: tuple[str, ...]
    ) -> routing.Recipients:
        route = (involves_office, excluded)
        if route not in self.routes:
            self.routes[route] = routing.recipients_from(
                self.holders,
                self.directory,
                settings,
                involves_office=involves_office,
                excluded_staff_ids=excluded,
            )
        return self.routes[route]


async def read_for_filing(session: AsyncSession, runtime: Runtime) -> FilingRead:
    connection = await session.connection()
    rows = (
        await connection.execute(
            _FILING_READ, {"groups": routing.receiving_groups(runtime.settings)}
        )
    ).all()
    stored_rules = next((row.id for row in rows if row.what == _DEADLINES), None)
    head = next((row for row in rows if row.what == routing.DIRECTORY_HEAD), None)
    return FilingRead(
        open_categories={row.id for row in rows if row.what == _CATEGORY},
        rules=deadline_settings.rules_from(stored_rules, runtime),
        holders=[row for row in rows if row.what in (routing.HOLDER, routing.RECOVERY)],
        directory=await _directory(session, runtime, head),
    )


async def _directory(
    session: AsyncSession, runtime: Runtime, head: routing.KeyHolderRow | None
) -> DirectoryState | None:
    root = runtime.secrets.root_public
    if root is None or head is None:
        return None
    try:
        return await directory.state_at(
            session, root_public=root, count=int(head.id) + 1, head_previous=head.public_key
        )
    except DirectoryInvalid:
        return None
