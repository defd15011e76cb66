"""Restoring a backup in tests: a new instance to restore into, and what a token finds there."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlmodel import func, select

from intake.casework import reporter
from intake.config import load_settings
from intake.runtime import open_runtime
from intake.storage.models import StaffSession
from tests.support.instance import quietline_environ
from tests.support.postgres import fresh_database


@contextmanager
def restore_target(tmp_path: Path, database_url: str | None) -> Iterator[dict[str, str]]:
    """The environment of a new instance to restore into (on PostgreSQL, a new database)."""
    if database_url is None:
        yield quietline_environ(tmp_path / "restored")
        return
    with fresh_database() as url:
        yield quietline_environ(tmp_path / "restored", url)


async def restored_state(environ: dict[str, str], token: str) -> tuple[str, int]:
    """The stage the token finds in a restored instance, and its staff session rows."""
    runtime = open_runtime(load_settings(environ))
    try:
        stage = (await reporter.status_by_token(runtime, token)).stage
        async with runtime.sessions() as session:
            sessions = (await session.exec(select(func.count()).select_from(StaffSession))).one()
        return stage, int(sessions)
    finally:
        await runtime.close()
