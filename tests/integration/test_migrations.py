"""The Alembic migrations build exactly the schema the models describe, on both engines."""

from __future__ import annotations

from pathlib import Path

import anyio.to_thread
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from intake.accounts import instance
from intake.config import load_settings
from intake.storage import db
from tests.support.instance import Instance, quietline_environ


async def test_migrations_match_the_models(tmp_path, database_url: str | None) -> None:
    settings = load_settings(quietline_environ(tmp_path, database_url))
    await anyio.to_thread.run_sync(db.migrate, settings)
    engine = db.create_engine(settings)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}),
                    SQLModel.metadata,
                )
            )
    finally:
        await engine.dispose()
    assert differences == []


def test_the_newest_revision_is_read_from_the_scripts_as_alembic_reads_it() -> None:
    from alembic.script import ScriptDirectory

    settings = load_settings(quietline_environ(Path("/nonexistent")))
    scripts = ScriptDirectory.from_config(db.alembic_config(settings))
    assert db.newest_revision() == scripts.get_current_head()


async def test_a_start_migrates_only_a_schema_behind_the_scripts(seeded: Instance) -> None:
    """A start on a current schema skips Alembic; one a revision behind is brought up."""
    runtime = seeded.runtime
    assert await db.schema_is_current(runtime.engine)
    config = db.alembic_config(seeded.settings)
    await anyio.to_thread.run_sync(command.downgrade, config, "-1")
    assert not await db.schema_is_current(runtime.engine)
    await instance.initialise(runtime)
    assert await db.schema_is_current(runtime.engine)
