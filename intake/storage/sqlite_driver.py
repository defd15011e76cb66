"""SQLAlchemy's aiosqlite dialect with fewer trips to the driver's thread.

aiosqlite runs each SQLite connection in a thread of its own, and every call
into it is a round trip: the event loop queues the call, the thread wakes,
runs it, and wakes the loop again; the caller then waits behind every other
task the loop has ready. SQLAlchemy's adapter makes four such trips per
statement (open a cursor, execute, fetch, close) and one more for a commit or
rollback even when no transaction is open. On this service's busiest paths
those trips cost more than the SQL: a report took about 25 of them.

This dialect keeps everything else of SQLAlchemy's and aiosqlite's, and
changes only that:

- a statement runs, fetches its rows and closes its cursor in one trip, and a
  commit or rollback with no transaction open makes none;
- inside a write transaction (begun with :data:`BEGIN_WRITE`, which holds
  SQLite's write lock until it ends) statements run on the caller's thread,
  with no trip at all. Holding the lock, they never wait for another writer,
  and they change pages in SQLite's cache, written at the commit, so a report's
  take microseconds; the begin (which may wait for the lock) and the commit
  (which syncs the write-ahead log) still go to the driver's thread. A write
  with much to do (a purge, an attachment's chunks) holds the event loop while
  its statements run, as any CPU work does. The connection is opened
  with ``check_same_thread=False`` for this; it is never used by two threads
  at once, since its thread runs only what this connection's one holder
  queued and awaits.

What it leans on, beyond public API:

- aiosqlite's ``Connection._execute`` (queue a function to the connection's
  thread) and ``Connection._conn`` (the sqlite3 connection), as SQLAlchemy's
  own adapter does;
- SQLAlchemy 2.1's asyncio adapter layer (``sqlalchemy/connectors/asyncio.py``):
  ``sqlalchemy.util.concurrency.await_``, which exists only in 2.1 (2.0 names
  it ``await_only``); the ``_cursor_cls`` hook and ``_handle_exception`` of
  ``AsyncAdapt_dbapi_connection``; the ``_async_soft_close`` cursor hook; and
  the ``_connection`` attribute of the aiosqlite adapter.

These are why pyproject.toml pins SQLAlchemy to the 2.1 series. If a release
moves them, ``QUIETLINE_SQLITE_DRIVER=stock`` runs SQLAlchemy's own aiosqlite
dialect instead (slower, same behaviour); tests/unit/storage/test_sqlite_driver.py fails
on such a release and runs its behaviour tests with both.
"""

from __future__ import annotations

import asyncio
import collections
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.engine import URL
from sqlalchemy.util.concurrency import await_

DRIVER = "quietline_aiosqlite"
#: Begins a write transaction: SQLite's write lock is taken at once and held until its end.
BEGIN_WRITE = "BEGIN IMMEDIATE"

_Outcome = tuple[Any, list[Any], int, int | None]


def _run(connection: sqlite3.Connection, operation: str, parameters: Any) -> _Outcome:
    """In the driver's thread: execute, fetch every row, close."""
    cursor = connection.cursor()
    try:
        if parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _run_many(connection: sqlite3.Connection, operation: str, parameters: Any) -> _Outcome:
    cursor = connection.cursor()
    try:
        cursor.executemany(operation, parameters)
        return None, [], cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripCursor:
    """A DB-API cursor over an aiosqlite connection: its rows are fetched with the statement."""

    server_side = False

    def __init__(self, adapt_connection: OneTripConnection) -> None:
        self._adapt_connection = adapt_connection
        self._rows: collections.deque[Any] = collections.deque()
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1

    def _call(self, function: Any, operation: str, parameters: Any) -> None:
        adapt_connection = self._adapt_connection
        driver = adapt_connection._connection
        try:
            if adapt_connection.holds_write_lock and driver._conn.in_transaction:
                outcome: _Outcome = function(driver._conn, operation, parameters)
                # SQLAlchemy's asyncio layer requires every statement to await something: a
                # future already done costs no turn of the event loop.
                await_(_done(outcome))
            else:
                outcome = await_(driver._execute(function, driver._conn, operation, parameters))
                if operation == BEGIN_WRITE:
                    adapt_connection.holds_write_lock = True
        except Exception as error:
            adapt_connection._handle_exception(error)
        self.description, rows, self.rowcount, self.lastrowid = outcome
        self._rows = collections.deque(rows)

    def execute(self, operation: str, parameters: Any = None) -> None:
        self._call(_run, operation, parameters)

    def executemany(self, operation: str, seq_of_parameters: Sequence[Any]) -> None:
        self._call(_run_many, operation, seq_of_parameters)

    def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    def fetchmany(self, size: int | None = None) -> list[Any]:
        count = self.arraysize if size is None else size
        return [self._rows.popleft() for _ in range(min(count, len(self._rows)))]

    def fetchall(self) -> list[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows

    def __iter__(self) -> Iterator[Any]:
        while self._rows:
            yield self._rows.popleft()

    def close(self) -> None:
        self._rows.clear()

    async def _async_soft_close(self) -> None:
        """SQLAlchemy's asyncio layer calls this before handing rows over: they are here already."""

    def setinputsizes(self, *inputsizes: Any) -> None:
        pass


def _done(outcome: _Outcome) -> asyncio.Future[_Outcome]:
    future: asyncio.Future[_Outcome] = asyncio.get_running_loop().create_future()
    future.set_result(outcome)
    return future


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("holds_write_lock",)

    _cursor_cls = OneTripCursor  # type: ignore[assignment]

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        # Set once BEGIN_WRITE succeeded; the transaction's statements then run in place.
        self.holds_write_lock = False

    def rollback(self) -> None:
        self.holds_write_lock = False
        if self._connection._connection and self._connection.in_transaction:
            super().rollback()

    def commit(self) -> None:
        self.holds_write_lock = False
        if self._connection._connection and self._connection.in_transaction:
            super().commit()


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        # Statements of a write transaction run on the event loop's thread (see above).
        kw["check_same_thread"] = False
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)


class SQLiteDialect(SQLiteDialect_aiosqlite):
    driver = DRIVER
    supports_statement_cache = True
    # Server-side cursors would need a cursor that stays open; none is used here.
    supports_server_side_cursors = False

    @classmethod
    def import_dbapi(cls) -> OneTripDBAPI:  # type: ignore[override]
        return OneTripDBAPI(__import__("aiosqlite"), __import__("sqlite3"))


registry.register(f"sqlite.{DRIVER}", __name__, "SQLiteDialect")


def one_trip_url(url: str) -> URL:
    """The ``sqlite+aiosqlite://`` URL given, served by this dialect."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername=f"sqlite+{DRIVER}")
