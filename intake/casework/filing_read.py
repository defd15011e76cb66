"""What filing reads once per transaction, in one statement.

Each statement is a round trip, and the writer waits behind every request the event loop has
ready, so filing reads everything it checks a batch of reports against at once: the key holders
of both receiving groups (``routing.KEY_HOLDERS``), the open categories and the stored deadline
rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import literal, null, union_all
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncConnection

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
    routes: dict[routing.Route, routing.Recipients] = field(default_factory=dict)

    def recipients(
        self, settings: Settings, *, involves_office: bool, excluded: tuple[str, ...]
    ) -> routing.Recipients:
        route = (involves_office, excluded)
        if route not in self.routes:
            self.routes[route] = routing.recipients_from(
                self.holders, settings, involves_office=involves_office, excluded_staff_ids=excluded
            )
        return self.routes[route]


async def read_for_filing(connection: AsyncConnection, runtime: Runtime) -> FilingRead:
    rows = (
        await connection.execute(
            _FILING_READ, {"groups": routing.receiving_groups(runtime.settings)}
        )
    ).all()
    stored_rules = next((row.id for row in rows if row.what == _DEADLINES), None)
    return FilingRead(
        open_categories={row.id for row in rows if row.what == _CATEGORY},
        rules=deadline_settings.rules_from(stored_rules, runtime),
        holders=[row for row in rows if row.what in (routing.HOLDER, routing.RECOVERY)],
    )
