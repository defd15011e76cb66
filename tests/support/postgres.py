"""The PostgreSQL server the tests use: where it is, whether it answers, admin statements."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import asyncpg
import pytest

PG_ADMIN_DSN = os.environ.get(
    "QUIETLINE_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def run_sync(coroutine: Any) -> Any:
    """Run a coroutine to completion from sync code, outside any test's event loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def pg_reachable() -> bool:
    try:
        connection = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
    except (OSError, asyncpg.PostgresError):
        return False
    await connection.close()
    return True


async def pg_admin(statement: str) -> None:
    """Run one statement (CREATE or DROP DATABASE...) as the administrator."""
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(statement)
    finally:
        await admin.close()


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new, empty database, dropped on leaving; yields its SQLAlchemy (asyncpg) URL.

    Skips the test when the server is unreachable, unless the run requires PostgreSQL
    (QUIETLINE_TEST_REQUIRE_POSTGRES=1, as in CI), where that fails it.
    """
    if not run_sync(pg_reachable()):
        if os.environ.get("QUIETLINE_TEST_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required but unreachable at {PG_ADMIN_DSN}")
        pytest.skip("PostgreSQL is not reachable here")
    name = f"quietline_test_{secrets.token_hex(6)}"
    run_sync(pg_admin(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        run_sync(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
