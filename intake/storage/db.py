"""Database engine, sessions and migrations (SQLite by default, PostgreSQL when configured)."""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import os
import re
import time
import weakref
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.types import DateTime, TypeDecorator
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.config import Settings
from intake.datadir import sqlite_file
from intake.storage import sqlite_driver

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).parent / "migrations"


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite hands back naive datetimes where PostgreSQL keeps the zone; this
    makes both behave the same.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


WRITE_OPTION = "quietline_write"
SINGLE_STATEMENT_OPTION = "quietline_single_statement"


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own implicit BEGIN is turned off; _sqlite_begin emits ours.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: a report whose token was shown survives a power cut, not only a crash.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    # Deleted content is overwritten, not left in free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    """Write transactions take SQLite's write lock up front (BEGIN IMMEDIATE).

    A deferred transaction that reads, then writes after another writer has
    committed, fails with "database is locked" at once; taking the lock at
    BEGIN makes concurrent writers wait their turn (busy_timeout) instead.
    """
    options = connection.get_execution_options()
    if options.get(SINGLE_STATEMENT_OPTION, False):
        return  # see single_statement
    write = options.get(WRITE_OPTION, False)
    connection.exec_driver_sql(sqlite_driver.BEGIN_WRITE if write else "BEGIN")


def _sqlite_reset(dbapi_connection: Any, _record: Any, reset_state: Any) -> None:
    """Roll back a connection coming back to the pool only if a transaction is still open.

    SQLAlchemy ends the transactions it began before the connection returns;
    rolling back again after every commit cost a round trip to the driver's
    thread each time.
    """
    if reset_state.terminate_only:
        return
    if dbapi_connection.driver_connection.in_transaction:
        dbapi_connection.rollback()


def prepare_sqlite_file(settings: Settings) -> None:
    """Create the data directory (0700) and an empty database file with mode 0600 before SQLite
    opens it: SQLite would create it with the process's umask (0644 in most shells), and gives
    its ``-wal`` and ``-shm`` files the database file's mode."""
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    database = sqlite_file(settings)
    if database is None or database.exists():
        return
    try:
        descriptor = os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it a moment ago
        return
    os.close(descriptor)


def create_engine(settings: Settings) -> AsyncEngine:
    if settings.is_sqlite:
        prepare_sqlite_file(settings)
        url = settings.database_url
        engine = create_async_engine(
            sqlite_driver.one_trip_url(url) if settings.sqlite_driver == "fast" else url,
            pool_size=5,
            max_overflow=5,
            pool_reset_on_return=None,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_connect)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        event.listen(engine.sync_engine.pool, "reset", _sqlite_reset)
        return engine
    engine = create_async_engine(settings.database_url, pool_size=10, max_overflow=10)
    event.listen(engine.sync_engine.pool, "checkin", _note_checkin)
    event.listen(engine.sync_engine.pool, "checkout", _ping_if_idle)
    return engine


# A pooled PostgreSQL connection unused for this long is tested before it is lent again.
IDLE_BEFORE_PING = 10.0  # seconds


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info["returned_at"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Test a connection that sat idle in the pool; a dead one is replaced, unseen by the caller.

    After a database restart every pooled connection is dead. Testing each
    one on every checkout (SQLAlchemy's ``pool_pre_ping``) costs three round
    trips per request; a connection in steady use is tested by that use, and
    if the server went away under load, the first failure makes SQLAlchemy
    replace the whole pool.
    """
    returned_at = record.info.get("returned_at")
    if returned_at is None or time.monotonic() - returned_at < IDLE_BEFORE_PING:
        return
    try:
        dbapi_connection.ping()
    except Exception as exc:
        raise DisconnectionError("the pooled connection did not answer") from exc


def session_factory(
    engine: AsyncEngine, info: dict[str, Any] | None = None
) -> async_sessionmaker[AsyncSession]:
    """Database sessions on ``engine``; ``info`` is copied into each session's ``info`` (the
    audit log finds its keys there, intake/runtime.py)."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False, info=info)


def alembic_config(settings: Settings) -> AlembicConfig:
    # Alembic is imported only to migrate: the server process migrates in a child of its own
    # (migrate_in_child) and so never holds Alembic's memory.
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = settings.database_url
    return config


def migrate(settings: Settings) -> None:
    """Bring the schema to the newest revision (synchronous; run before serving)."""
    from alembic import command

    if settings.is_sqlite:
        prepare_sqlite_file(settings)
    command.upgrade(alembic_config(settings), "head")


_REVISION_LINE = re.compile(r'^(down_revision|revision) = "([^"]*)"$', re.MULTILINE)


@functools.cache
def newest_revision() -> str | None:
    """The revision the migration scripts end at, read from their files without importing
    Alembic; None if the scripts do not end at exactly one."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        for name, value in _REVISION_LINE.findall(script.read_text(encoding="utf-8")):
            (revisions if name == "revision" else parents).add(value)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


async def schema_is_current(engine: AsyncEngine) -> bool:
    """Whether the database already stands at the newest revision: then a start need not load
    Alembic and the migration scripts (a second of a command's start) to find nothing to do."""
    newest = newest_revision()
    if newest is None:
        return False
    try:
        async with engine.connect() as connection:
            stamped = (await connection.execute(text("SELECT version_num FROM alembic_version")))
            return [row[0] for row in stamped] == [newest]
    except DBAPIError:  # no database yet, or no version table: migrate
        return False


def migrate_in_child(settings: Settings) -> None:
    """:func:`migrate` in a short-lived process of its own, for a long-running server: Alembic
    and the migration scripts (about 10 MB) are loaded there and freed when it exits. Its
    error, if any, is raised here."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as child:
        child.submit(migrate, settings).result()


# One lock per (event loop, SQLite engine): see ``transaction``.
_write_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def _sqlite_write_lock(engine: AsyncEngine) -> asyncio.Lock:
    per_loop = _write_locks.setdefault(asyncio.get_running_loop(), {})
    return per_loop.setdefault(id(engine.sync_engine), asyncio.Lock())


@asynccontextmanager
async def single_statement(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection for a read done in one statement (a statement is its own snapshot).

    It runs without BEGIN and ROLLBACK, saving the round trips a transaction
    costs; the busiest reporter read (the status page) uses it.
    """
    async with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            yield await connection.execution_options(**{SINGLE_STATEMENT_OPTION: True})
        else:
            yield await connection.execution_options(isolation_level="AUTOCOMMIT")


@asynccontextmanager
async def transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A write transaction: its work commits together on success, rolls back on error.

    SQLite has one writer at a time. Writers of this process queue on an
    asyncio lock, in arrival order, before they take SQLite's own lock:
    waiting on SQLite's lock instead means sleeping in its busy handler, which
    retries at growing intervals (up to 100 ms) and lets a late writer overtake
    an early one. busy_timeout still covers other processes (the CLI).
    """
    bind = sessions.kw.get("bind")
    if isinstance(bind, AsyncEngine) and bind.dialect.name == "sqlite":
        async with _sqlite_write_lock(bind):
            async with sessions() as session, session.begin():
                await session.connection(execution_options={WRITE_OPTION: True})
                yield session
        return
    async with sessions() as session, session.begin():
        await session.connection(execution_options={WRITE_OPTION: True})
        yield session
