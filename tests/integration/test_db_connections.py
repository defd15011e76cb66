"""Pooled PostgreSQL connections: one that died while idle (a database restart) is replaced."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from intake.config import load_settings
from intake.storage import db
from tests.support.postgres import PG_ADMIN_DSN


@pytest.fixture
async def pg_engine(pg_database: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    settings = load_settings(
        {"QUIETLINE_DATA_DIR": str(tmp_path / "data"), "QUIETLINE_DATABASE_URL": pg_database}
    )
    engine = db.create_engine(settings)
    try:
        yield engine
    finally:
        await engine.dispose()


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        pid: int = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    return pid


async def _terminate(pid: int) -> None:
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


async def test_a_connection_killed_while_idle_is_replaced_unseen(
    pg_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await _backend_pid(pg_engine)
    await _terminate(first)  # what a restart of the database does to every pooled connection
    monkeypatch.setattr(db, "IDLE_BEFORE_PING", 0.0)  # it has been idle long enough
    second = await _backend_pid(pg_engine)  # no error reaches the caller
    assert second != first


async def test_a_connection_in_steady_use_is_not_pinged(
    pg_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = 0
    await _backend_pid(pg_engine)
    async with pg_engine.connect() as connection:
        adapted = (await connection.get_raw_connection()).dbapi_connection
        original = type(adapted).ping

    def counting_ping(self: object) -> None:
        nonlocal pings
        pings += 1
        original(self)

    monkeypatch.setattr(type(adapted), "ping", counting_ping)
    for _ in range(5):
        await _backend_pid(pg_engine)
    assert pings == 0
    monkeypatch.setattr(db, "IDLE_BEFORE_PING", 0.0)
    await _backend_pid(pg_engine)
    assert pings == 1
