"""Shared fixtures: real SQLite and real PostgreSQL, a seeded instance, HTTP clients, a live server.

Each PostgreSQL test gets a database of its own, created and dropped here, so
runs never see each other's data. Where PostgreSQL is required (CI sets
QUIETLINE_TEST_REQUIRE_POSTGRES=1), an unreachable server fails the run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from intake.web.app import create_app
from tests.support.instance import Instance, make_instance, quietline_environ
from tests.support.live import LiveServer, free_port
from tests.support.mail import SmtpServer
from tests.support.postgres import fresh_database

TESTS = Path(__file__).resolve().parent
# Each directory is a level (pyproject.toml registers the markers); some files also name
# what they need from the machine, so a run can leave it out (`-m "not browser"`).
LEVELS = ("unit", "integration", "system")
MARKERS_BY_FILE = {
    "system/test_browser.py": ("browser",),
    "system/test_deploy.py": ("deploy",),
    "system/test_deploy_stack.py": ("deploy", "containers", "slow"),
    "system/test_cleaners_judged.py": ("judges",),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its level, what its file needs, and `postgres` where it uses it
    (the `pg_database` fixture, or a parameter named "postgresql")."""
    for item in items:
        try:
            where = item.path.resolve().relative_to(TESTS)
        except ValueError:
            continue
        if where.parts[0] in LEVELS:
            item.add_marker(where.parts[0])
        for name in MARKERS_BY_FILE.get(where.as_posix(), ()):
            item.add_marker(name)
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and "postgresql" in callspec.params.values()
        if on_postgres or "pg_database" in getattr(item, "fixturenames", ()):
            item.add_marker("postgres")

@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database; yields its SQLAlchemy (asyncpg) URL."""
    with fresh_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """None for the embedded SQLite default, else a fresh PostgreSQL database's URL."""
    if request.param == "sqlite":
        return None
    url: str = request.getfixturevalue("pg_database")
    return url


@pytest.fixture(params=["fast", "stock"])
def sqlite_driver(request: pytest.FixtureRequest) -> str:
    """Each value of QUIETLINE_SQLITE_DRIVER: Quietline's SQLite dialect and the stock fallback."""
    driver: str = request.param
    return driver


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
