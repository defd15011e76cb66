"""Migration 0009 turns the integer ids of existing case key copies into random text ids, on
both engines, so a development database made before it keeps working."""

from __future__ import annotations

from datetime import date

import anyio.to_thread
from alembic import command
from sqlalchemy import insert, text

from intake.config import load_settings
from intake.storage import db
from intake.storage.models import RecoveryKey, is_id
from tests.support.instance import quietline_environ


async def test_integer_case_key_ids_become_random_text(tmp_path, database_url: str | None) -> None:
    settings = load_settings(quietline_environ(tmp_path, database_url))
    if settings.is_sqlite:
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    config = db.alembic_config(settings)
    await anyio.to_thread.run_sync(command.upgrade, config, "0008")
    engine = db.create_engine(settings)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                insert(RecoveryKey.__table__).values(  # type: ignore[attr-defined]
                    id="r" * 32, public_key=b"k", active=True, created_on=date(2026, 1, 1)
                )
            )
            for number in (1, 2):
                case_id = str(number) * 32
                # Plain SQL: the models describe today's tables, not those of revision 0008.
                await connection.execute(
                    text(
                        'INSERT INTO "case" (id, ref, kind, channel, category, group_name, '
                        "involves_office, stage, received_on, ack_due, lookup, salt, next_seq, "
                        "legal_hold) VALUES (:id, :ref, 'report', 'web', 'financial', "
                        "'solicitor', false, 'received', :received, :due, :lookup, :salt, 1, "
                        "false)"
                    ),
                    {
                        "id": case_id,
                        "ref": f"QL-0000{number}-00000",
                        "received": date(2026, 1, 1),
                        "due": date(2026, 1, 8),
                        "lookup": bytes([number]),
                        "salt": b"s",
                    },
                )
                await connection.execute(
                    text(
                        "INSERT INTO casekey (id, case_id, recovery_key_id, sealed) "
                        "VALUES (:id, :case_id, :key, :sealed)"
                    ),
                    {"id": number, "case_id": case_id, "key": "r" * 32, "sealed": b"x"},
                )
        await anyio.to_thread.run_sync(command.upgrade, config, "head")
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT id, case_id FROM casekey"))).all()
    finally:
        await engine.dispose()
    assert sorted(row.case_id for row in rows) == ["1" * 32, "2" * 32]
    assert all(is_id(row.id) for row in rows), rows
    assert len({row.id for row in rows}) == 2
