"""The limits of two runtimes on one PostgreSQL database are one set of limits.

Each runtime stands for a process: its own engine and connections. Before, each kept its
counts in memory, so N processes allowed N times every figure.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from intake import throttle
from intake.runtime import open_runtime
from intake.storage.limits import DatabaseLimits
from intake.throttle import LocalLimits
from tests.support.instance import make_instance


async def test_two_runtimes_on_one_database_share_every_limit(
    tmp_path: Path, pg_database: str
) -> None:
    first = await make_instance(tmp_path / "a", pg_database, seed=False)
    second = open_runtime(first.settings)
    try:
        assert isinstance(first.runtime.limits, DatabaseLimits)
        one, other = first.runtime.limits, second.limits
        # 30 events at once, half through each: exactly the figure is allowed.
        waits = await asyncio.gather(
            *((one, other)[n % 2].take(throttle.LOOKUPS, 10) for n in range(30))
        )
        assert sum(1 for wait in waits if wait == 0) == 10
        assert all(0 < wait <= 6 for wait in waits if wait)
        # The failure count that slows strangers down: full for both once either fills it.
        assert not await other.exhausted(throttle.SIGN_IN_FAILURES, 3)
        for _ in range(3):
            assert await one.take(throttle.SIGN_IN_FAILURES, 3) == 0
        assert await other.exhausted(throttle.SIGN_IN_FAILURES, 3)
        assert await one.exhausted(throttle.SIGN_IN_FAILURES, 3)
        # Limits are kept apart by name.
        assert await other.take(throttle.SUBMISSIONS, 10) == 0
    finally:
        await second.close()
        await first.runtime.close()


async def test_on_sqlite_the_limits_stay_in_the_process(tmp_path: Path) -> None:
    """One process serves a SQLite database: no statement is spent on a limit."""
    made = await make_instance(tmp_path / "data", None, seed=False)
    try:
        assert isinstance(made.runtime.limits, LocalLimits)
    finally:
        await made.runtime.close()
