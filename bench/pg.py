"""A throw-away PostgreSQL database for one benchmark run, when a server is reachable."""

from __future__ import annotations

import os
import secrets

import asyncpg

ADMIN_DSN = os.environ.get(
    "QUIETLINE_BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)


async def reachable() -> bool:
    try:
        connection = await asyncpg.connect(ADMIN_DSN, timeout=3)
    except (OSError, asyncpg.PostgresError):
        return False
    await connection.close()
    return True


async def create_database() -> str:
    """Create a fresh database; return its SQLAlchemy (asyncpg) URL."""
    name = f"quietline_bench_{secrets.token_hex(6)}"
    await _as_admin(f'CREATE DATABASE "{name}"')
    base = ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{name}"


async def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    await _as_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def checkpoint() -> None:
    """Write every dirty buffer and the log now (``CHECKPOINT``, the bench's superuser may)."""
    await _as_admin("CHECKPOINT")


async def _as_admin(statement: str) -> None:
    admin = await asyncpg.connect(ADMIN_DSN)
    try:
        await admin.execute(statement)
    finally:
        await admin.close()
