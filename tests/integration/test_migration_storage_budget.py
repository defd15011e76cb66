"""Migration 0014 gives every attachment stored before it its stored length (header and
chunks), on both engines, so the total storage budget counts files already there; on PostgreSQL
its hourly sum is an UNLOGGED table."""

from __future__ import annotations

from datetime import date

import anyio.to_thread
from alembic import command
from sqlalchemy import insert, text

from intake.config import load_settings
from intake.storage import db
from intake.storage.models import AttachmentChunk, Case, Entry
from tests.support.instance import quietline_environ


async def test_attachments_stored_before_get_their_length(tmp_path, database_url: str | None):
    settings = load_settings(quietline_environ(tmp_path, database_url))
    if settings.is_sqlite:
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    config = db.alembic_config(settings)
    await anyio.to_thread.run_sync(command.upgrade, config, "0014")
    engine = db.create_engine(settings)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                insert(Case.__table__).values(  # type: ignore[attr-defined]
                    id="c" * 32,
                    ref="QL-00001-00000",
                    category="financial",
                    group_name="solicitor",
                    received_on=date(2026, 1, 1),
                    ack_due=date(2026, 1, 8),
                    lookup=b"l",
                    salt=b"s",
                )
            )
            await connection.execute(
                insert(Entry.__table__).values(  # type: ignore[attr-defined]
                    id="e" * 32,
                    case_id="c" * 32,
                    seq=1,
                    kind="report",
                    author="reporter",
                    on=date(2026, 1, 1),
                    body=b"b",
                )
            )
            for name, chunks in (("a", [b"x" * 1000, b"y" * 234]), ("b", [])):
                await connection.execute(
                    text(
                        "INSERT INTO attachment (id, case_id, entry_id, position, header, name, "
                        "details) VALUES (:id, :case_id, :entry_id, :position, :header, :n, :d)"
                    ),
                    {
                        "id": name * 32,
                        "case_id": "c" * 32,
                        "entry_id": "e" * 32,
                        "position": len(chunks),
                        "header": b"h" * 17,
                        "n": b"n",
                        "d": b"d",
                    },
                )
                for seq, data in enumerate(chunks):
                    await connection.execute(
                        insert(AttachmentChunk.__table__).values(  # type: ignore[attr-defined]
                            attachment_id=name * 32, seq=seq, data=data
                        )
                    )
        await anyio.to_thread.run_sync(command.upgrade, config, "head")
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    text("SELECT id, stored_bytes FROM attachment ORDER BY id")
                )
            ).all()
            if not settings.is_sqlite:  # the hour's sum stays out of the write-ahead log
                persistence = await connection.execute(
                    text("SELECT relpersistence::text FROM pg_class WHERE relname = 'uploadhour'")
                )
                assert persistence.scalar_one() == "u"
    finally:
        await engine.dispose()
    assert [(row.id[0], row.stored_bytes) for row in rows] == [("a", 17 + 1234), ("b", 17)]
