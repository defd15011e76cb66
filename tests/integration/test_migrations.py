"""The Alembic migrations build exactly the schema the models describe, on both engines."""

from __future__ import annotations

import anyio.to_thread
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from intake.config import load_settings
from intake.storage import db
from tests.support.instance import quietline_environ


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
