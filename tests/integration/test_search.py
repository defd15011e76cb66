"""Search in one's own cases: words found in the cases one holds (any case, any accents), never
in a case one does not hold; at most the limit of cases read; one audit event without the words;
and nothing else in the database changed."""

from __future__ import annotations

import dataclasses
import json
import logging
import re

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import SQLModel

from intake.storage import db
from intake.web.app import create_app
from tests.support import reports
from tests.support.instance import Instance
from tests.support.staffing import StaffClient, fresh_totp, sign_in

OFFICER = "officer1@example.org"
HELD = "The snow-clearing contract went to Désirée Lemaître's brother-in-law without a tender."
NOT_HELD = "The solicitor's office approved the snow-clearing contract for a friend."


async def _everything(made: Instance) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, to compare before and after."""
    rows: dict[str, list[tuple[object, ...]]] = {}
    async with db.single_statement(made.runtime.engine) as connection:
        for table in SQLModel.metadata.sorted_tables:
            found = (await connection.execute(select(table))).all()
            rows[table.name] = sorted((tuple(row) for row in found), key=repr)
    return rows


async def _file_held_and_not_held(client: httpx.AsyncClient) -> None:
    await reports.file_report(client, {"category": "financial", "body": HELD})
    # About the solicitor's office: it goes to the alternate group, which officer1 is not in.
    await reports.file_report(
        client, {"category": "financial", "body": NOT_HELD, "involves_office": True}
    )


async def test_search_finds_words_in_held_cases_only_and_writes_only_an_audit_event(
    client: httpx.AsyncClient, seeded: Instance, caplog: pytest.LogCaptureFixture
) -> None:
    await _file_held_and_not_held(client)
    officer: StaffClient = await sign_in(seeded, client, OFFICER)
    alternate = await sign_in(seeded, client, "alternate@example.org")
    before = await _everything(seeded)

    with caplog.at_level(logging.DEBUG):
        found = await officer.get("/api/v1/cases/search", params={"q": "DESIREE lemaitre"})
    assert found.status_code == 200, found.text
    answer = found.json()
    assert [case["stage"] for case in answer["cases"]] == ["received"]
    assert "Désirée Lemaître" in answer["cases"][0]["excerpt"]
    assert answer["searched"] == 1 and answer["cut_short"] is False
    # What the service logged (the test's own HTTP client logs the address it asked for).
    logged = " ".join(
        record.getMessage() for record in caplog.records if not record.name.startswith("httpx")
    ).casefold()
    assert "desiree" not in logged and "lemaitre" not in logged

    # The other case holds "friend"; this officer does not hold it, so nothing is found.
    assert (await officer.get("/api/v1/cases/search", params={"q": "friend"})).json()["cases"] == []
    theirs = (await alternate.get("/api/v1/cases/search", params={"q": "friend"})).json()
    assert len(theirs["cases"]) == 1
    both = await officer.get("/api/v1/cases/search", params={"q": "snow-clearing friend"})
    assert both.json()["cases"] == []  # every word must be in the case

    after = await _everything(seeded)
    old_events = before.pop("auditevent")
    new_events = [row for row in after.pop("auditevent") if row not in old_events]
    # One audit event a search, and nothing else changed.
    assert after == before
    assert len(new_events) == 4 and all("staff.search" in row for row in new_events)
    for row in new_events:
        text = json.dumps([str(value) for value in row]).casefold()
        assert "desir" not in text and "friend" not in text and "snow" not in text


async def test_a_search_with_no_words_or_too_long_is_refused_clearly(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    officer = await sign_in(seeded, client, OFFICER)
    empty = await officer.get("/api/v1/cases/search", params={"q": "   "})
    assert empty.status_code == 422 and "at least one word" in empty.json()["error"]
    long = await officer.get("/api/v1/cases/search", params={"q": "x" * 201})
    assert long.status_code == 422 and "too long" in long.json()["error"]
    anonymous = await client.get("/api/v1/cases/search", params={"q": "contract"})
    assert anonymous.status_code == 401


async def test_the_limit_is_respected_and_the_page_says_so(sqlite_seeded: Instance) -> None:
    settings = dataclasses.replace(sqlite_seeded.settings, search_max_cases=2)
    app = create_app(
        settings, runtime=dataclasses.replace(sqlite_seeded.runtime, settings=settings)
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
        ) as client,
    ):
        for number in range(3):
            await reports.file_report(
                client, {"category": "financial", "body": f"Invoice {number} paid twice."}
            )
        officer = await sign_in(sqlite_seeded, client, OFFICER)
        answer = (await officer.get("/api/v1/cases/search", params={"q": "invoice"})).json()
        assert answer["searched"] == 2 and answer["limit"] == 2 and answer["cut_short"] is True
        assert len(answer["cases"]) == 2

        signed = await client.post(
            "/staff/login",
            data={
                "email": OFFICER,
                "password": sqlite_seeded.staff_passwords[OFFICER],
                "totp": await fresh_totp(sqlite_seeded, OFFICER),
            },
        )
        assert signed.status_code == 303
        queue = await client.get("/staff/")
        assert 'action="/staff/search"' in queue.text
        page = await client.get("/staff/search", params={"q": "PAID twice"})
        assert page.status_code == 200
        assert "Only your 2 most recent cases were searched" in page.text
        assert "2 cases found" in page.text
        assert len(re.findall(r'href="/staff/cases/QL-', page.text)) == 2
        none = await client.get("/staff/search", params={"q": "nothing-like-this"})
        assert "No case you hold contains all of these words." in none.text
        refused = await client.get("/staff/search", params={"q": ""})
        assert refused.status_code == 422 and "at least one word" in refused.text
