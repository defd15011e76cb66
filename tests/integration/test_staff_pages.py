"""The staff pages, used as a clerk would: plain forms, no script, every change behind CSRF."""

from __future__ import annotations

import re

import httpx

from tests.support import reports
from tests.support.instance import Instance, set_labels
from tests.support.staffing import sign_in_on_the_page

OFFICER = "officer1@example.org"
REPORT_TEXT = "Overtime sheets in the roads department are signed by the same person."


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the page has no CSRF field"
    return found.group(1)


async def _sign_in_on_the_page(client: httpx.AsyncClient, made: Instance, email: str) -> str:
    await sign_in_on_the_page(made, client, email)
    queue = await client.get("/staff/")
    assert queue.status_code == 200
    return queue.text


async def test_a_clerk_signs_in_opens_acknowledges_and_replies(
    sqlite_client: httpx.AsyncClient, sqlite_seeded: Instance
) -> None:
    client = sqlite_client
    filed = await client.post("/report", data={"category": "conduct", "body": REPORT_TEXT})
    assert filed.status_code == 201
    token = re.search(r'readonly value="([^"]+)"', filed.text).group(1)

    first = await client.get("/staff/")
    assert first.status_code == 401 and 'action="/staff/login"' in first.text

    queue = await _sign_in_on_the_page(client, sqlite_seeded, OFFICER)
    ref = re.search(r'href="/staff/cases/([^"]+)"', queue).group(1)
    assert REPORT_TEXT not in queue
    assert "Acknowledge by" in queue

    case_page = await client.get(f"/staff/cases/{ref}")
    assert REPORT_TEXT in case_page.text
    csrf = _csrf(case_page.text)

    forged = await client.post(f"/staff/cases/{ref}/stage", data={"stage": "acknowledged"})
    assert forged.status_code == 403

    acknowledged = await client.post(
        f"/staff/cases/{ref}/stage", data={"stage": "acknowledged", "csrf": csrf}
    )
    assert acknowledged.status_code == 303
    shown = await client.get(acknowledged.headers["location"])
    assert "The case is acknowledged" in shown.text and "Feedback due by" in shown.text

    reply = "Thank you. Please tell us which weeks you noticed this."
    sent = await client.post(f"/staff/cases/{ref}/messages", data={"body": reply, "csrf": csrf})
    assert sent.status_code == 303
    empty = await client.post(f"/staff/cases/{ref}/messages", data={"body": " ", "csrf": csrf})
    assert empty.status_code == 422 and "empty" in empty.text

    status = await client.post("/status", data={"token": token})
    # The first message to the reporter is the feedback: its due date is gone.
    assert reply in status.text and "Feedback due by" not in status.text

    signed_out = await client.post("/staff/logout", data={"csrf": csrf})
    assert signed_out.status_code == 200 and "You are signed out" in signed_out.text
    assert (await client.get(f"/staff/cases/{ref}")).status_code == 401


async def test_a_wrong_code_on_the_page_is_refused_clearly(
    sqlite_client: httpx.AsyncClient, sqlite_seeded: Instance
) -> None:
    answer = await sqlite_client.post(
        "/staff/login",
        data={"email": OFFICER, "password": sqlite_seeded.staff_passwords[OFFICER], "totp": "12"},
    )
    assert answer.status_code == 401
    assert "Sign-in failed" in answer.text and OFFICER in answer.text  # the email is kept
    assert "Set-Cookie" not in answer.headers


async def test_an_officer_records_a_phone_report_and_sees_the_token_once(
    sqlite_client: httpx.AsyncClient, sqlite_seeded: Instance
) -> None:
    client = sqlite_client
    queue = await _sign_in_on_the_page(client, sqlite_seeded, OFFICER)
    form = await client.get("/staff/new")
    assert form.status_code == 200
    csrf = _csrf(form.text)
    missing_channel = await client.post(
        "/staff/new", data={"category": "safety", "body": "Gas smell in depot 4.", "csrf": csrf}
    )
    assert missing_channel.status_code == 422 and "Gas smell in depot 4." in missing_channel.text
    recorded = await client.post(
        "/staff/new",
        data={
            "category": "safety",
            "body": "Gas smell in depot 4.",
            "channel": "phone",
            "kind": "report",
            "csrf": csrf,
        },
    )
    assert recorded.status_code == 201
    shown = re.search(r'class="token"[^>]*>(.*?)</p>', recorded.text).group(1)
    token = re.sub(r"<[^>]+>|\s", "", shown)  # its groups are spans
    status = await client.post("/api/v1/reports/status", json={"token": token})
    assert status.status_code == 200
    queue = (await client.get("/staff/")).text
    assert "Phone" in queue
    assert token not in queue


async def test_the_report_form_offers_exclusions_and_honours_them(
    sqlite_client: httpx.AsyncClient, sqlite_seeded: Instance
) -> None:
    from sqlalchemy import text

    from intake.storage import db

    await set_labels(sqlite_seeded, {"officer3@example.org": "Deputy solicitor"})
    async with db.transaction(sqlite_seeded.runtime.sessions) as session:
        officer3 = (
            await session.exec(text("SELECT id FROM staff WHERE email = 'officer3@example.org'"))
        ).one()[0]
    form = await reports.questions_page(sqlite_client)
    assert "Never send it to: Deputy solicitor" in form.text
    filed = await sqlite_client.post(
        "/report",
        data={"category": "conduct", "body": "The deputy hides invoices.", "exclude": officer3},
    )
    assert filed.status_code == 201
    async with sqlite_seeded.runtime.sessions() as session:
        holders = (await session.exec(text("SELECT staff_id FROM casekey"))).all()
    held = {row[0] for row in holders}
    assert officer3 not in held and len(held) >= 3  # two officers and the recovery key (None)

    # A form with files (multipart) keeps every ticked box.
    await set_labels(sqlite_seeded, {"officer2@example.org": "Second officer"})
    async with db.transaction(sqlite_seeded.runtime.sessions) as session:
        officer2 = (
            await session.exec(text("SELECT id FROM staff WHERE email = 'officer2@example.org'"))
        ).one()[0]
        await session.exec(text("DELETE FROM casekey"))
    filed = await sqlite_client.post(
        "/report",
        data={
            "category": "conduct",
            "body": "Both hide invoices.",
            "exclude": [officer3, officer2],
        },
        files={"files": ("note.txt", b"plain text", "text/plain")},
    )
    assert filed.status_code == 201, filed.text
    async with sqlite_seeded.runtime.sessions() as session:
        holders = (await session.exec(text("SELECT staff_id FROM casekey"))).all()
    held = {row[0] for row in holders}
    assert officer2 not in held and officer3 not in held and len(held) == 2

    forged = await sqlite_client.post(
        "/report", data={"category": "conduct", "body": "x", "exclude": "not-a-person"}
    )
    assert forged.status_code == 422 and "from the list" in forged.text
