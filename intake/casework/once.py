"""A reporter form's one-time value: the same form sent twice (a reload of the token page, back
and send again, a double click) files one report.

The form page carries a random value (``crypto.new_once``). When a report is filed with it, a
keyed hash of the value (``crypto.once_digest``, under the token pepper) is written in the
filing's own transaction, into a table whose primary key refuses a second copy; a second
submission finds it there and files nothing (:class:`AlreadySent`). Two submissions at the same
moment race on that key, and exactly one files: the insert is ``ON CONFLICT DO NOTHING`` with
``RETURNING``, so the loser learns it lost without failing the reports written beside it.

The hash is kept until the end of the day after it was spent, then deleted by the retention run
(:func:`forget_spent`). It is never stored with the case: no case id, no reference; the only
day it carries is the office's day, which the case shows anyway.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

import crypto
from intake.errors import InvalidInput, QuietlineError
from intake.i18n import N_
from intake.runtime import Runtime
from intake.storage import db
from intake.storage.models import SpentFormValue

# What a client may send: the form's 22 characters, or an API client's own key of 16 to 64
# URL-safe characters (a UUID's 36 included).
_WELL_FORMED = re.compile(r"[A-Za-z0-9_-]{16,64}")
_TABLE = SpentFormValue.__table__  # type: ignore[attr-defined]


class AlreadySent(QuietlineError):
    """This form (or this API idempotency key) has already filed a report."""

    status = 409

    def __init__(self) -> None:
        super().__init__(
            N_(
                "This report was already sent. Its case token was shown on the page that "
                "came after you sent it; nothing new was filed."
            )
        )


def new_value() -> str:
    return crypto.new_once()


def digest(runtime: Runtime, value: str | None, *, field: str = "once") -> bytes | None:
    """The keyed hash to keep for ``value``; None when no value was sent (nothing is then
    checked). A value of the wrong shape is refused."""
    if value is None or value == "":
        return None
    if not _WELL_FORMED.fullmatch(value):
        raise InvalidInput(
            N_("This form's one-time value is damaged. Please send the form again."),
            field=field,
        )
    return crypto.once_digest(runtime.secrets.token_pepper, value)


def keep_until(today: date) -> date:
    """The last day a spent value is kept: the day after it was spent."""
    return today + timedelta(days=1)


async def spend(
    connection: AsyncConnection, digests: Sequence[bytes], *, today: date
) -> set[bytes]:
    """Record each digest as spent, inside the filing's transaction; the ones this call
    recorded. A digest spent before (or by a transaction committed while this one waited) is
    not among them. The digests must be distinct."""
    if not digests:
        return set()
    rows = [{"digest": item, "keep_until": keep_until(today)} for item in digests]
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(_TABLE)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["digest"])
        .returning(_TABLE.c.digest)
    )
    result = await connection.execute(statement)
    return {bytes(row[0]) for row in result}


async def spend_each(
    connection: AsyncConnection, values: Sequence[bytes | None], *, today: date
) -> list[bool]:
    """For reports written together: whether each may be filed. One without a value may; of
    several with the same value, only the first, and only if no earlier report spent it."""
    first: dict[bytes, int] = {}
    for position, value in enumerate(values):
        if value is not None:
            first.setdefault(value, position)
    spent = await spend(connection, list(first), today=today)
    return [
        value is None or (value in spent and first[value] == position)
        for position, value in enumerate(values)
    ]


async def forget_spent(runtime: Runtime, *, today: date) -> int:
    """Delete the spent values kept past the day after they were spent; how many."""
    async with db.transaction(runtime.sessions) as session:
        connection = await session.connection()
        result = await connection.execute(delete(_TABLE).where(_TABLE.c.keep_until < today))
    return int(result.rowcount or 0)
