"""The limits of ``intake.throttle`` kept in PostgreSQL, shared by every process of a database.

Several app processes serve one PostgreSQL database (deploy/compose.yaml runs two);
limits kept in each process's memory would let N processes allow N times each
figure. Here each limit is one row of the ``sharedlimit`` table (UNLOGGED: it is
not written to the write-ahead log, costs little, and is emptied after a crash,
which only forgets recent counts), holding its GCRA arrival time in seconds of
the database's clock, so processes on different hosts agree on the time.

Counting an event is one statement in autocommit: an upsert that moves the
arrival time on only when the event is within the limit, and returns the row
only then. Concurrent events are serialised by the row lock the upsert takes,
so none is lost.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from intake.storage import db
from intake.throttle import BURST_SECONDS, interval

# :step is the limit's interval; EXCLUDED.tat - :step is the statement's "now".
_TAKE = text(
    "INSERT INTO sharedlimit AS l (name, tat) "
    "VALUES (:name, extract(epoch from clock_timestamp())::double precision + :step) "
    "ON CONFLICT (name) DO UPDATE "
    "SET tat = GREATEST(l.tat, EXCLUDED.tat - :step) + :step "
    "WHERE GREATEST(l.tat, EXCLUDED.tat - :step) + :step - (EXCLUDED.tat - :step) <= :burst "
    "RETURNING tat"
)
_EXHAUSTED = text(
    "SELECT GREATEST(tat - extract(epoch from clock_timestamp())::double precision, 0) "
    "+ :step > :burst FROM sharedlimit WHERE name = :name"
)


@dataclass
class DatabaseLimits:
    """``intake.throttle.Limits`` in the ``sharedlimit`` table (PostgreSQL only)."""

    engine: AsyncEngine

    async def take(self, name: str, per_minute: int) -> float:
        step = interval(per_minute)
        async with db.single_statement(self.engine) as connection:
            counted = (
                await connection.execute(
                    _TAKE, {"name": name, "step": step, "burst": BURST_SECONDS}
                )
            ).first()
        # Refused: the arrival time stands at most a minute ahead (only an allowed event
        # moves it), so one interval from now the next event is within the limit.
        return 0.0 if counted is not None else step

    async def exhausted(self, name: str, per_minute: int) -> bool:
        async with db.single_statement(self.engine) as connection:
            full = (
                await connection.execute(
                    _EXHAUSTED,
                    {"name": name, "step": interval(per_minute), "burst": BURST_SECONDS},
                )
            ).scalar()
        return bool(full)
