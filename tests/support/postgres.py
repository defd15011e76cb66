"""The PostgreSQL server the tests use: where it is, whether it answers, admin statements."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import asyncpg

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
