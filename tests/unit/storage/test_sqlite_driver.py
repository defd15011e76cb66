"""The SQLite dialect making one trip to aiosqlite's thread per statement, and none for the
statements of a write transaction (intake/storage/sqlite_driver).

It leans on two internals of aiosqlite's; these tests fail if an upgrade
moves them, and show that results, errors and transactions behave as with
SQLAlchemy's own adapter.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiosqlite.core
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util.concurrency import greenlet_spawn

from intake.config import ConfigError, load_settings
from intake.storage import db
from intake.storage.sqlite_driver import DRIVER


def _engine(tmp_path: Path, driver: str) -> AsyncEngine:
    return db.create_engine(
        load_settings(
            {"QUIETLINE_DATA_DIR": str(tmp_path / "data"), "QUIETLINE_SQLITE_DRIVER": driver}
        )
    )


@pytest.fixture
async def engine(tmp_path: Path, sqlite_driver: str) -> AsyncIterator[AsyncEngine]:
    """An engine with each driver: what it does with results, errors and transactions is the
    same with both."""
    engine = _engine(tmp_path, sqlite_driver)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def fast_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An engine with the one-trip dialect, whose trips the tests below count."""
    engine = _engine(tmp_path, "fast")
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Counts the calls queued to aiosqlite's thread, by function name."""
    counted: Counter[str] = Counter()
    original = aiosqlite.core.Connection._execute

    async def counting(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        counted[getattr(fn, "__name__", repr(fn))] += 1
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.core.Connection, "_execute", counting)
    yield counted


async def test_the_engine_uses_the_one_trip_dialect_unless_told_to_use_the_stock_one(
    engine: AsyncEngine, sqlite_driver: str
) -> None:
    assert engine.dialect.driver == (DRIVER if sqlite_driver == "fast" else "aiosqlite")
    assert (await _pragmas(engine)) == ("wal", 2, 1)


def test_the_default_driver_is_the_one_trip_dialect(tmp_path: Path) -> None:
    settings = load_settings({"QUIETLINE_DATA_DIR": str(tmp_path / "data")})
    assert settings.sqlite_driver == "fast"
    with pytest.raises(ConfigError, match="QUIETLINE_SQLITE_DRIVER must be 'fast' or 'stock'"):
        load_settings({"QUIETLINE_DATA_DIR": str(tmp_path), "QUIETLINE_SQLITE_DRIVER": "pysqlite"})


async def _pragmas(engine: AsyncEngine) -> tuple[Any, ...]:
    """What every connection is set up with (intake/storage/db.py), whichever the driver."""
    async with engine.connect() as connection:
        journal = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar_one()
        synchronous = (await connection.exec_driver_sql("PRAGMA synchronous")).scalar_one()
        keys = (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar_one()
    return journal, synchronous, keys


async def test_a_statement_is_one_trip_and_a_read_without_transaction_needs_no_rollback(
    fast_engine: AsyncEngine, trips: Counter[str]
) -> None:
    async with fast_engine.connect() as connection:  # the first use sets the connection up
        await connection.execute(text("SELECT 1"))
    trips.clear()
    async with db.single_statement(fast_engine) as connection:
        rows = (await connection.execute(text("SELECT 1 AS a, 'x' AS b UNION SELECT 2, 'y'"))).all()
    assert [tuple(row) for row in rows] == [(1, "x"), (2, "y")]
    assert sum(trips.values()) == 1, trips


async def test_rows_empty_results_and_many_parameters(engine: AsyncEngine) -> None:
    async with db.transaction(db.session_factory(engine)) as session:
        connection = await session.connection()
        await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
        await connection.execute(
            text("INSERT INTO t (name) VALUES (:name)"), [{"name": "a"}, {"name": "b"}]
        )
        inserted = await connection.execute(text("INSERT INTO t (name) VALUES ('c')"))
        assert inserted.lastrowid == 3
    async with engine.connect() as connection:
        empty = await connection.execute(text("SELECT id, name FROM t WHERE name = 'none'"))
        assert list(empty.keys()) == ["id", "name"]
        assert empty.all() == []
        result = await connection.execute(text("SELECT name FROM t ORDER BY id"))
        assert result.fetchone() == ("a",)
        assert result.fetchmany(1) == [("b",)]
        assert result.scalars().all() == ["c"]


async def test_an_error_rolls_the_whole_transaction_back(engine: AsyncEngine) -> None:
    sessions = db.session_factory(engine)
    async with db.transaction(sessions) as session:
        await (await session.connection()).execute(text("CREATE TABLE t (name TEXT UNIQUE)"))
    with pytest.raises(IntegrityError):
        async with db.transaction(sessions) as session:
            connection = await session.connection()
            await connection.execute(text("INSERT INTO t VALUES ('first')"))
            await connection.execute(text("INSERT INTO t VALUES ('first')"))
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0


async def test_a_connection_back_in_the_pool_with_a_transaction_open_is_rolled_back(
    engine: AsyncEngine,
) -> None:
    raw = await engine.raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    await driver.execute("BEGIN IMMEDIATE")
    assert driver.in_transaction
    await greenlet_spawn(raw.close)
    assert not driver.in_transaction
    # The write lock is free again: a write transaction starts at once.
    async with db.transaction(db.session_factory(engine)) as session:
        await (await session.connection()).execute(text("CREATE TABLE after_reset (x INTEGER)"))


async def test_a_write_transaction_trips_only_to_begin_and_commit(
    fast_engine: AsyncEngine, trips: Counter[str]
) -> None:
    sessions = db.session_factory(fast_engine)
    async with db.transaction(sessions) as session:
        await (await session.connection()).execute(text("CREATE TABLE t (name TEXT)"))
    trips.clear()
    async with db.transaction(sessions) as session:
        connection = await session.connection()
        await connection.execute(text("INSERT INTO t VALUES ('a')"))
        await connection.execute(text("INSERT INTO t VALUES (:name)"), [{"name": "b"}])
        rows = (await connection.execute(text("SELECT name FROM t ORDER BY name"))).scalars()
        assert rows.all() == ["a", "b"]
    # BEGIN IMMEDIATE (which may wait for the lock) and COMMIT (which syncs) go to the thread.
    assert trips == Counter({"_run": 1, "commit": 1}), trips
    # Committed for everyone, and the connection, back in the pool, trips again for a read.
    trips.clear()
    async with db.single_statement(fast_engine) as other:
        assert (await other.execute(text("SELECT count(*) FROM t"))).scalar_one() == 2
    assert trips == Counter({"_run": 1}), trips


async def test_a_read_transaction_still_runs_its_statements_in_the_drivers_thread(
    fast_engine: AsyncEngine, trips: Counter[str]
) -> None:
    async with fast_engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    trips.clear()
    async with db.session_factory(fast_engine)() as session, session.begin():
        connection = await session.connection()
        await connection.execute(text("SELECT 1"))
        await connection.execute(text("SELECT 2"))
    # BEGIN and two statements: a read may wait on a lock (a WAL recovery) and never blocks
    # the event loop.
    assert trips["_run"] == 3, trips
