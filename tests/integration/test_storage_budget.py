"""The storage budget of reporters' files (intake/attachments/budget.py): an anonymous upload
flood stops at the budget with 507 and leaves nothing behind, while text-only reports, staff
work and existing cases go on; the budget holds across processes of one database; the
operator is told when it nears its end. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import func, select

from intake.attachments import budget
from intake.attachments.budget import StorageFull
from intake.operations import maintenance
from intake.runtime import open_runtime
from intake.storage.models import Attachment, AttachmentChunk, Case, Entry, UploadHour
from intake.web.app import create_app
from tests.support import casefactory
from tests.support.instance import Instance
from tests.support.staffing import sign_in

REPORT = {"category": "financial", "body": "The depot's fuel was sold on the side."}
OFFICER = "officer1@example.org"
ADMIN = "admin@example.org"
FILE_BYTES = 300_000
REFUSED = "Files cannot be stored right now"


@asynccontextmanager
async def app_client(made: Instance, **changes: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app on the same instance with changed settings."""
    settings = dataclasses.replace(made.settings, **changes)
    runtime = dataclasses.replace(made.runtime, settings=settings)
    app = create_app(settings, runtime=runtime)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            yield client


def with_file(name: str = "scan.bin", size: int = FILE_BYTES) -> dict[str, Any]:
    """A multipart API report carrying one file of ``size`` random bytes."""
    return {
        "files": [
            ("report", (None, json.dumps(REPORT), "application/json")),
            ("files", (name, os.urandom(size), "application/octet-stream")),
        ]
    }


async def counts(made: Instance) -> dict[str, int]:
    async with made.runtime.sessions() as session:
        return {
            table.__name__: (await session.exec(select(func.count()).select_from(table))).one()
            for table in (Case, Entry, Attachment, AttachmentChunk)
        }


def staging_is_empty(made: Instance) -> bool:
    staging = made.settings.data_dir / "staging"
    return not staging.exists() or not any(staging.iterdir())


async def test_an_upload_flood_stops_at_the_hourly_budget_and_the_rest_goes_on(
    seeded: Instance,
) -> None:
    async with app_client(
        seeded,
        attachment_budget_hour_bytes=1_000_000,
        attachment_budget_total_bytes=0,
        attachment_min_free_bytes=0,
    ) as client:
        # Before the flood: a case with a file, which staff must still open afterwards.
        first = await client.post("/api/v1/reports", **with_file("before.bin"))
        assert first.status_code == 201, first.text
        token = first.json()["token"]
        answers = [await client.post("/api/v1/reports", **with_file()) for _ in range(5)]
        statuses = [answer.status_code for answer in answers]
        assert statuses == [201, 201, 507, 507, 507], statuses
        refused = answers[-1]
        assert REFUSED in refused.json()["error"] and "Nothing was saved" in refused.json()["error"]
        before = await counts(seeded)

        # Refused again, nothing of it anywhere: no case, no entry, no file, no staged file.
        again = await client.post("/api/v1/reports", **with_file())
        assert again.status_code == 507
        assert await counts(seeded) == before
        assert staging_is_empty(seeded)
        # A message with a file is refused the same way; the form page says it in French too.
        message = await client.post(
            "/api/v1/reports/messages",
            files=[
                (
                    "message",
                    (None, json.dumps({"token": token, "body": "More"}), "application/json"),
                ),
                ("files", ("more.bin", os.urandom(200_000), "application/octet-stream")),
            ],
        )
        assert message.status_code == 507, message.text
        page = await client.post(
            "/report",
            data=REPORT,
            files=[("files", ("photo.bin", os.urandom(200_000), "application/octet-stream"))],
            headers={"accept-language": "fr-CA"},
        )
        assert page.status_code == 507
        assert "Les fichiers ne peuvent pas être conservés pour le moment" in page.text
        reply_page = await client.post(
            "/status/message",
            data={"token": token, "body": "More"},
            files=[("files", ("more.bin", os.urandom(200_000), "application/octet-stream"))],
        )
        assert reply_page.status_code == 507 and REFUSED in reply_page.text
        assert await counts(seeded) == before
        assert staging_is_empty(seeded)

        # What the budget never refuses: a report or message without files (JSON, API
        # multipart, and the form, which is multipart) ...
        assert (await client.post("/api/v1/reports", json=REPORT)).status_code == 201
        text_only = await client.post(
            "/api/v1/reports", files=[("report", (None, json.dumps(REPORT), "application/json"))]
        )
        assert text_only.status_code == 201, text_only.text
        form = await client.post("/report", data=REPORT, files=[("files", ("", b"", ""))])
        assert form.status_code == 201, form.text
        said = await client.post("/api/v1/reports/messages", json={"token": token, "body": "Hi"})
        assert said.status_code == 201, said.text
        # ... and staff: a report they enter, a reply, and the files already stored.
        officer = await sign_in(seeded, client, OFFICER)
        entered = await officer.post("/api/v1/cases", {**REPORT, "channel": "phone"})
        assert entered.status_code == 201, entered.text
        cases = (await officer.get("/api/v1/cases")).json()["cases"]
        ref = next(row["ref"] for row in cases if row["channel"] == "web")
        case = (await officer.get(f"/api/v1/cases/{ref}")).json()
        for item in case["attachments"]:
            download = await officer.get(item["url"])
            assert download.status_code == 200
        reply = await officer.post(f"/api/v1/cases/{ref}/messages", {"body": "Received."})
        assert reply.status_code in (200, 201), reply.text

        # Once the hour has ended its sum is forgotten (serve's budget watch), and the next
        # hour has its own budget.
        seeded.clock.advance(timedelta(hours=1))
        await budget.forget_past_hours(seeded.runtime)
        async with seeded.runtime.sessions() as session:
            assert (await session.exec(select(UploadHour))).all() == []
        later = await client.post("/api/v1/reports", **with_file())
        assert later.status_code == 201, later.text
    async with seeded.runtime.sessions() as session:
        rows = (await session.exec(select(UploadHour))).all()
    assert len(rows) == 1  # only the hour now running is kept


async def test_the_total_budget_and_the_disk_floor_refuse_files_not_text(
    seeded: Instance,
) -> None:
    async with app_client(
        seeded,
        attachment_budget_hour_bytes=0,
        attachment_budget_total_bytes=700_000,
        attachment_min_free_bytes=0,
    ) as client:
        statuses = [
            (await client.post("/api/v1/reports", **with_file())).status_code for _ in range(3)
        ]
        assert statuses == [201, 201, 507]
        assert (await client.post("/api/v1/reports", json=REPORT)).status_code == 201
    async with app_client(seeded, attachment_min_free_bytes=10**18) as client:
        floor = await client.post("/api/v1/reports", **with_file(size=10))
        assert floor.status_code == 507 and REFUSED in floor.json()["error"]
        assert (await client.post("/api/v1/reports", json=REPORT)).status_code == 201
    assert staging_is_empty(seeded)


async def test_the_write_itself_is_refused_when_the_budget_filled_meanwhile(
    seeded: Instance,
) -> None:
    """The check in the storing transaction (what several processes rely on): a report whose
    files no longer fit is not written at all, even though it got past the upload reader."""
    settings = dataclasses.replace(
        seeded.settings, attachment_budget_hour_bytes=500_000, attachment_min_free_bytes=0
    )
    runtime = dataclasses.replace(seeded.runtime, settings=settings)
    await casefactory.file_report(runtime, attachments=(("a.bin", os.urandom(FILE_BYTES)),))
    before = await counts(seeded)
    with pytest.raises(StorageFull):
        await casefactory.file_report(runtime, attachments=(("b.bin", os.urandom(FILE_BYTES)),))
    assert await counts(seeded) == before
    # Staff entering a report are never counted.
    assert (await budget.usage(runtime)).hour_bytes < 500_000


async def test_the_budget_holds_across_processes_sharing_the_database(
    seeded: Instance,
) -> None:
    """Two apps with their own engines (as two processes have) on one database, uploading at
    once: together they store no more than the hourly budget."""
    changes = {
        "attachment_budget_hour_bytes": 1_000_000,
        "attachment_budget_total_bytes": 0,
        "attachment_min_free_bytes": 0,
    }
    settings = dataclasses.replace(seeded.settings, **changes)
    other = open_runtime(settings)
    other = dataclasses.replace(other, clock=seeded.clock)
    try:
        apps = [
            create_app(settings, runtime=dataclasses.replace(seeded.runtime, settings=settings)),
            create_app(settings, runtime=other),
        ]
        async with (
            apps[0].router.lifespan_context(apps[0]),
            apps[1].router.lifespan_context(apps[1]),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=apps[0]), base_url="http://127.0.0.1"
            ) as one,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=apps[1]), base_url="http://127.0.0.1"
            ) as two,
        ):
            answers = await asyncio.gather(
                *[(one if n % 2 else two).post("/api/v1/reports", **with_file()) for n in range(8)]
            )
    finally:
        await other.close()
    statuses = sorted(answer.status_code for answer in answers)
    assert set(statuses) == {201, 507}, statuses
    async with seeded.runtime.sessions() as session:
        stored = (await session.exec(select(func.sum(Attachment.stored_bytes)))).one()
        hour = (await session.exec(select(UploadHour))).one()
    assert stored == hour.stored_bytes <= 1_000_000
    assert statuses.count(201) == (await counts(seeded))["Case"] == 3


async def test_the_operator_is_told_when_the_budget_nears_its_end(
    seeded: Instance, caplog: pytest.LogCaptureFixture
) -> None:
    async with app_client(
        seeded,
        attachment_budget_hour_bytes=2_000_000,
        attachment_budget_total_bytes=0,
        attachment_min_free_bytes=0,
    ) as client:
        admin = await sign_in(seeded, client, ADMIN)
        quiet = await admin.get("/admin/")
        assert quiet.status_code == 200 and "storage budget" not in quiet.text
        for _ in range(6):
            assert (await client.post("/api/v1/reports", **with_file())).status_code == 201
        page = await admin.get("/admin/")
        assert "of this hour&#39;s storage budget" in page.text, page.text
        assert "90%" in page.text
        french = await admin.get("/admin/", params={"lang": "fr-CA"})
        assert "budget de stockage" in french.text
    settings = dataclasses.replace(
        seeded.settings,
        attachment_budget_hour_bytes=2_000_000,
        attachment_budget_total_bytes=2_000_000,
        attachment_min_free_bytes=0,
    )
    runtime = dataclasses.replace(seeded.runtime, settings=settings)
    with caplog.at_level(logging.WARNING, logger="quietline.maintenance"):
        # The hourly budget is told at the first look, once an hour; the total budget only at
        # a look drawn at random, never in step with an upload.
        later = maintenance.BudgetWatch(runtime, slow_look_at=runtime.now() + timedelta(hours=1))
        first = await later.look()
        assert await later.look() == []
        due = maintenance.BudgetWatch(runtime, slow_look_at=runtime.now())
        both = await due.look()
        assert await due.look() == []
    assert len(first) == 1 and "90% of this hour's storage budget" in first[0]
    assert len(both) == 2 and "90% of the total storage budget" in both[1]
    lines = [record.getMessage() for record in caplog.records]
    assert lines == [f"storage budget: {line}" for line in first + both]
    # No personal data: nothing but the sentence, with sizes and a percentage.
    assert not any(REPORT["body"] in line or "scan.bin" in line for line in lines)
