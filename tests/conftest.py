"""Shared fixtures: real SQLite and real PostgreSQL, a seeded instance, HTTP clients, a live server.

Each PostgreSQL test gets a database of its own, created and dropped here, so
runs never see each other's data. Where PostgreSQL is required (CI sets
QUIETLINE_TEST_REQUIRE_POSTGRES=1), an unreachable server fails the run.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from intake.accounts import instance, keyring
from intake.config import Settings, load_settings
from intake.runtime import Runtime, open_runtime
from intake.storage import db
from intake.web.app import create_app
from tests.mail_support import SmtpServer
from tests.support import LiveServer, free_port

PG_ADMIN_DSN = os.environ.get(
    "QUIETLINE_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
PASSWORD = "correct horse battery staple"


def _run(coroutine: Any) -> Any:
    """Run a coroutine to completion from sync code, outside any test's event loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _pg_reachable() -> bool:
    try:
        connection = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
    except (OSError, asyncpg.PostgresError):
        return False
    await connection.close()
    return True


async def _pg_admin(statement: str) -> None:
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(statement)
    finally:
        await admin.close()


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database; yields its SQLAlchemy (asyncpg) URL."""
    if not _run(_pg_reachable()):
        if os.environ.get("QUIETLINE_TEST_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required but unreachable at {PG_ADMIN_DSN}")
        pytest.skip("PostgreSQL is not reachable here")
    name = f"quietline_test_{secrets.token_hex(6)}"
    _run(_pg_admin(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        _run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """None for the embedded SQLite default, else a fresh PostgreSQL database's URL."""
    if request.param == "sqlite":
        return None
    url: str = request.getfixturevalue("pg_database")
    return url


def quietline_environ(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    """Environment for a Quietline process under test: cheap Argon2id, its own data dir."""
    environ = {
        "QUIETLINE_DATA_DIR": str(data_dir),
        "QUIETLINE_DEV": "1",
        "QUIETLINE_PASSWORD_ITERATIONS": "1",
        "QUIETLINE_PASSWORD_MEMORY_KIB": "1024",
    }
    if database_url:
        environ["QUIETLINE_DATABASE_URL"] = database_url
    return environ


@dataclass
class Instance:
    """A migrated, seeded instance and the secrets a test needs to check what it stored."""

    settings: Settings
    runtime: Runtime
    staff_passwords: dict[str, str] = field(default_factory=dict)
    staff_private: dict[str, bytes] = field(default_factory=dict)
    totp_secrets: dict[str, str] = field(default_factory=dict)
    recovery_private: bytes = b""


SEED_STAFF = (
    ("officer1@example.org", "Officer One", "officer", "solicitor"),
    ("officer2@example.org", "Officer Two", "officer", "solicitor"),
    ("officer3@example.org", "Officer Three", "officer", "solicitor"),
    ("alternate@example.org", "Alternate Officer", "officer", "alternate"),
    ("investigator@example.org", "Investigator", "investigator", "solicitor"),
    ("admin@example.org", "Administrator", "admin", "solicitor"),
)


@pytest.fixture(params=["fast", "stock"])
def sqlite_driver(request: pytest.FixtureRequest) -> str:
    """Each value of QUIETLINE_SQLITE_DRIVER: Quietline's SQLite dialect and the stock fallback."""
    driver: str = request.param
    return driver


async def make_instance(
    data_dir: Path,
    database_url: str | None,
    *,
    seed: bool = True,
    environ: dict[str, str] | None = None,
) -> Instance:
    settings = load_settings({**quietline_environ(data_dir, database_url), **(environ or {})})
    instance.prepare(settings)
    runtime = open_runtime(settings)
    await instance.initialise(runtime)
    made = Instance(settings=settings, runtime=runtime)
    if not seed:
        return made
    async with db.transaction(runtime.sessions) as session:
        _, made.recovery_private = await keyring.create_recovery_key(session)
        for email, name, role, group in SEED_STAFF:
            _, unlocked = await keyring.create_staff(
                session,
                settings,
                email=email,
                name=name,
                role=role,
                group=group,
                password=PASSWORD,
            )
            made.staff_passwords[email] = PASSWORD
            made.staff_private[email] = unlocked.private_key
            made.totp_secrets[email] = unlocked.totp_secret
    return made


@pytest.fixture
async def seeded(database_url: str | None, tmp_path: Path) -> AsyncIterator[Instance]:
    """A seeded instance, once on SQLite and once on PostgreSQL."""
    made = await make_instance(tmp_path / "data", database_url)
    try:
        yield made
    finally:
        await made.runtime.close()


@pytest.fixture
async def sqlite_seeded(tmp_path: Path) -> AsyncIterator[Instance]:
    """A seeded instance on the embedded SQLite default only."""
    made = await make_instance(tmp_path / "data", None)
    try:
        yield made
    finally:
        await made.runtime.close()


async def _client_for(made: Instance) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(made.settings, runtime=made.runtime)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            yield client


@pytest.fixture
async def client(seeded: Instance) -> AsyncIterator[httpx.AsyncClient]:
    async for made in _client_for(seeded):
        yield made


@pytest.fixture
async def sqlite_client(sqlite_seeded: Instance) -> AsyncIterator[httpx.AsyncClient]:
    async for made in _client_for(sqlite_seeded):
        yield made


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A real ``quietline serve`` process on loopback (SQLite), with its output captured."""
    server = LiveServer(
        data_dir=tmp_path / "live", port=free_port(), environ=quietline_environ(tmp_path / "live")
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp_servers(tmp_path: Path) -> Iterator[Callable[..., SmtpServer]]:
    """Make real aiosmtpd servers on loopback (started); all are stopped at the end."""
    made: list[SmtpServer] = []

    def make(**options: Any) -> SmtpServer:
        server = SmtpServer(tmp=tmp_path, **options)
        made.append(server)
        return server.start()

    try:
        yield make
    finally:
        for server in made:
            server.stop()
