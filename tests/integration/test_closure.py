"""Concluding a case answers the reporter: a message (drafted per outcome, edited by the officer)
or the officer's reason none can be sent; never neither. The reporter then sees the message,
the day the case was concluded and the outcome in plain words, and no feedback due date."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from babel.dates import format_date
from sqlalchemy import text

from intake.storage import db
from tests.support import reports
from tests.support.instance import Instance
from tests.support.staffing import StaffClient, fresh_totp, sign_in

OFFICER = "officer1@example.org"


async def _acknowledged_case(client: httpx.AsyncClient, officer: StaffClient) -> tuple[str, str]:
    before = {row["ref"] for row in (await officer.get("/api/v1/cases")).json()["cases"]}
    token = await reports.file_report(client)
    [ref] = {row["ref"] for row in (await officer.get("/api/v1/cases")).json()["cases"]} - before
    assert (await officer.post(f"/api/v1/cases/{ref}/stage", {"stage": "acknowledged"})).is_success
    return token, ref


async def _what_is_stored(made: Instance) -> tuple[int, int, str]:
    """Entries, audit events and the case's stage: what a refused conclusion must not change."""
    async with db.single_statement(made.runtime.engine) as connection:
        entries = (await connection.execute(text("SELECT count(*) FROM entry"))).scalar_one()
        events = (await connection.execute(text("SELECT count(*) FROM auditevent"))).scalar_one()
        stage = (await connection.execute(text('SELECT stage FROM "case"'))).scalar_one()
    return entries, events, stage


async def test_concluding_without_a_message_or_a_reason_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    officer = await sign_in(seeded, client, OFFICER)
    token, ref = await _acknowledged_case(client, officer)
    before = await _what_is_stored(seeded)
    conclude = {"stage": "concluded", "outcome": "referred", "reason": "Auditor's remit."}

    neither = await officer.post(f"/api/v1/cases/{ref}/stage", conclude)
    assert neither.status_code == 422
    assert "write a message to them, or say why no message can be sent" in neither.json()["error"]
    blank = await officer.post(
        f"/api/v1/cases/{ref}/stage", {**conclude, "message": "  ", "no_message_reason": ""}
    )
    assert blank.status_code == 422
    both = await officer.post(
        f"/api/v1/cases/{ref}/stage",
        {**conclude, "message": "We passed it on.", "no_message_reason": "No reason."},
    )
    assert both.status_code == 422 and "not both" in both.json()["error"]
    drafted = (await officer.get("/api/v1/closing-messages")).json()["drafts"]["en"]["referred"]
    unfinished = await officer.post(f"/api/v1/cases/{ref}/stage", {**conclude, "message": drafted})
    assert unfinished.status_code == 422 and "square brackets" in unfinished.json()["error"]
    assert await _what_is_stored(seeded) == before

    status = (await client.post("/api/v1/reports/status", json={"token": token})).json()
    assert status["stage"] == "acknowledged" and status["due"]["feedback"] is not None

    # With the reason no message can be sent, it concludes; the reason stays internal.
    why = "The reporter asked us not to write again."
    concluded = await officer.post(
        f"/api/v1/cases/{ref}/stage", {**conclude, "no_message_reason": why}
    )
    assert concluded.status_code == 200, concluded.text
    status = (await client.post("/api/v1/reports/status", json={"token": token})).json()
    assert status["stage"] == "concluded" and status["messages"] == []
    assert status["concluded_on"] == seeded.runtime.today().isoformat()
    assert status["due"]["feedback"] is None
    assert why not in str(status)
    case = (await officer.get(f"/api/v1/cases/{ref}")).json()
    assert [note["body"] for note in case["notes"]] == [why]
    history = (await officer.get("/api/v1/audit", params={"case": ref})).json()["events"]
    assert "Concluded the case: Referred to another body, with no message to the reporter" in [
        event["description"] for event in history
    ]


async def test_the_closing_message_is_an_audited_office_message_the_reporter_reads(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    officer = await sign_in(seeded, client, OFFICER)
    token, ref = await _acknowledged_case(client, officer)
    drafts = (await officer.get("/api/v1/closing-messages")).json()["drafts"]
    assert set(drafts) == {"en", "fr-CA"}
    assert drafts["fr-CA"]["substantiated"].startswith("Merci de votre signalement.")
    message = drafts["en"]["substantiated"]
    concluded = await officer.post(
        f"/api/v1/cases/{ref}/stage",
        {"stage": "concluded", "outcome": "substantiated", "reason": "Payroll confirmed it."},
    )
    assert concluded.status_code == 422
    concluded = await officer.post(
        f"/api/v1/cases/{ref}/stage",
        {
            "stage": "concluded",
            "outcome": "substantiated",
            "reason": "Payroll confirmed it.",
            "message": message,
        },
    )
    assert concluded.status_code == 200, concluded.text
    assert concluded.json()["due"]["feedback"] is None

    status = (await client.post("/api/v1/reports/status", json={"token": token})).json()
    assert [(m["from"], m["body"]) for m in status["messages"]] == [("office", message)]
    assert status["outcome"] == "substantiated"
    assert status["concluded_on"] == seeded.runtime.today().isoformat()
    assert status["due"]["feedback"] is None and "Payroll" not in str(status)

    async with db.single_statement(seeded.runtime.engine) as connection:
        actions = (
            await connection.execute(
                text("SELECT action FROM auditevent WHERE case_ref = :ref"), {"ref": ref}
            )
        ).scalars()
        stored = (await connection.execute(text("SELECT body FROM entry"))).scalars().all()
    assert {"case.message", "case.stage"} <= set(actions)
    assert not any(message.encode() in bytes(body) for body in stored)  # encrypted at rest


async def test_the_first_message_to_the_reporter_meets_the_feedback_deadline(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    officer = await sign_in(seeded, client, OFFICER)
    _, answered = await _acknowledged_case(client, officer)
    _, silent = await _acknowledged_case(client, officer)
    sent = await officer.post(f"/api/v1/cases/{answered}/messages", {"body": "We are on it."})
    assert sent.status_code == 201

    seeded.clock.advance(timedelta(days=130))  # past the three months
    officer = await sign_in(seeded, client, OFFICER)
    rows = {row["ref"]: row for row in (await officer.get("/api/v1/cases")).json()["cases"]}
    assert rows[answered]["overdue"] is False and rows[answered]["due"]["feedback"] is None
    assert rows[silent]["overdue"] is True and rows[silent]["due"]["feedback"] is not None
    overdue = (await officer.get("/api/v1/cases", params={"overdue": "true"})).json()["cases"]
    assert [row["ref"] for row in overdue] == [silent]
    shown = (await officer.get(f"/api/v1/cases/{answered}")).json()
    assert shown["due"]["feedback"] is None


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the page has no CSRF field"
    return found.group(1)


async def test_an_officer_concludes_on_the_pages_and_the_reporter_reads_it_with_the_token(
    sqlite_client: httpx.AsyncClient, sqlite_seeded: Instance
) -> None:
    client = sqlite_client
    filed = await client.post("/report", data={"category": "conduct", "body": "Timesheets."})
    token = re.search(r'readonly value="([^"]+)"', filed.text).group(1)
    signed = await client.post(
        "/staff/login",
        data={
            "email": OFFICER,
            "password": sqlite_seeded.staff_passwords[OFFICER],
            "totp": await fresh_totp(sqlite_seeded, OFFICER),
        },
    )
    assert signed.status_code == 303
    ref = re.search(r'href="/staff/cases/([^"]+)"', (await client.get("/staff/")).text).group(1)
    csrf = _csrf((await client.get(f"/staff/cases/{ref}")).text)
    await client.post(f"/staff/cases/{ref}/stage", data={"stage": "acknowledged", "csrf": csrf})
    status = await client.post("/status", data={"token": token})
    assert "Feedback due by" in status.text and "Concluded on" not in status.text

    case_page = (await client.get(f"/staff/cases/{ref}")).text
    assert f'action="/staff/cases/{ref}/conclude"' in case_page
    form = await client.get(f"/staff/cases/{ref}/conclude", params={"outcome": "referred"})
    assert form.status_code == 200
    assert "We have passed it on to a body better placed" in form.text
    french = await client.get(
        f"/staff/cases/{ref}/conclude", params={"outcome": "referred", "draft": "fr-CA"}
    )
    assert "Nous l&#39;avons transmis à un organisme mieux placé" in french.text

    refused = await client.post(
        f"/staff/cases/{ref}/conclude",
        data={"csrf": csrf, "outcome": "referred", "reason": "Auditor's remit.", "message": ""},
    )
    assert refused.status_code == 422
    assert "write a message to them, or say why no message can be sent" in refused.text
    assert "Auditor&#39;s remit." in refused.text  # what was typed is kept
    assert "Feedback due by" in (await client.post("/status", data={"token": token})).text

    message = "We passed your report to the provincial ombudsman, who handles such matters."
    fields = {"csrf": csrf, "outcome": "referred", "reason": "Auditor's remit."}
    concluded = await client.post(
        f"/staff/cases/{ref}/conclude", data={**fields, "message": message}
    )
    assert concluded.status_code == 303
    assert "The case is concluded" in (await client.get(concluded.headers["location"])).text

    status = await client.post("/status", data={"token": token})
    today = sqlite_seeded.runtime.today()
    assert message in status.text
    assert "Concluded on" in status.text and format_date(today, "long", locale="en") in status.text
    assert "Your report was passed on to a body better placed to deal with it." in status.text
    assert "Feedback due by" not in status.text
    french_status = await client.post("/status?lang=fr-CA", data={"token": token})
    assert "Conclu le" in french_status.text
    assert format_date(today, "long", locale="fr_CA") in french_status.text
    assert "Suivi au plus tard le" not in french_status.text
