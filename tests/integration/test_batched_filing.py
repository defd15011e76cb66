"""Group commit on the real database: reports filed at once share transactions, and each is kept."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from sqlalchemy import event
from sqlmodel import select

from intake.storage.models import Case
from intake.web.app import create_app
from tests.support.instance import make_instance


async def test_reports_filed_at_once_through_the_database_are_batched_and_each_kept(
    tmp_path: Path, sqlite_driver: str
) -> None:
    """The batched filing write (intake/casework/filing.py) on SQLite, with either driver."""
    made = await make_instance(
        tmp_path / "data", None, environ={"QUIETLINE_SQLITE_DRIVER": sqlite_driver}
    )
    commits: list[object] = []
    app = create_app(made.settings, runtime=made.runtime)
    transport = httpx.ASGITransport(app=app)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client,
        ):
            event.listen(made.runtime.engine.sync_engine, "commit", commits.append)
            answers = await asyncio.gather(
                *(
                    client.post("/api/v1/reports", json={"category": "safety", "body": f"R{i}"})
                    for i in range(12)
                )
            )
            assert [answer.status_code for answer in answers] == [201] * 12
            assert len(commits) < 12  # several reports to a transaction
            for answer in answers:
                status = await client.post(
                    "/api/v1/reports/status", json={"token": answer.json()["token"]}
                )
                assert status.status_code == 200 and status.json()["stage"] == "received"
        async with made.runtime.sessions() as session:
            assert len((await session.exec(select(Case))).all()) == 12
    finally:
        await made.runtime.close()
