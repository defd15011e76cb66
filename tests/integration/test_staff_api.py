"""Staff over HTTP: sign-in with TOTP, queue, case view, workflow, messages the reporter reads."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import text

from intake.storage import db
from intake.storage.db import utcnow
from tests.support import reports
from tests.support.instance import Instance
from tests.support.staffing import COOKIE, fresh_totp, login, sign_in

OFFICER = "officer1@example.org"
REPORT_TEXT = "The parks contract was signed twice for the same mowing work."


async def _file(client: httpx.AsyncClient, body: str = REPORT_TEXT, **extra: object) -> str:
    return await reports.file_report(client, {"category": "financial", "body": body}, **extra)


async def test_reporter_files_officer_triages_and_replies_reporter_reads(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    token = await _file(client)
    officer = await sign_in(seeded, client, OFFICER)

    queue = (await officer.get("/api/v1/cases")).json()
    assert len(queue["cases"]) == 1
    row = queue["cases"][0]
    assert row["stage"] == "received" and row["category"] == "financial"
    assert row["due"]["acknowledgement"] and not row["overdue"]
    assert REPORT_TEXT not in str(queue)  # the queue decrypts nothing
    ref = row["ref"]

    case = (await officer.get(f"/api/v1/cases/{ref}")).json()
    assert case["report"]["body"] == REPORT_TEXT
    assert case["next_stages"] == ["acknowledged"]
    assert OFFICER in [holder["email"] for holder in case["holders"]]

    acknowledged = await officer.post(f"/api/v1/cases/{ref}/stage", {"stage": "acknowledged"})
    assert acknowledged.status_code == 200, acknowledged.text
    feedback_due = acknowledged.json()["due"]["feedback"]
    assert feedback_due is not None

    before = (await client.post("/api/v1/reports/status", json={"token": token})).json()
    assert before["due"]["feedback"] == feedback_due

    reply = "Thank you. We are looking into the parks contract."
    sent = await officer.post(f"/api/v1/cases/{ref}/messages", {"body": reply})
    assert sent.status_code == 201
    note = "Check with procurement before calling the vendor."
    assert (await officer.post(f"/api/v1/cases/{ref}/notes", {"body": note})).status_code == 201

    status = (await client.post("/api/v1/reports/status", json={"token": token})).json()
    assert status["stage"] == "acknowledged"
    # The first message to the reporter is the feedback the deadline asks for.
    assert status["due"]["feedback"] is None
    assert [m["body"] for m in status["messages"]] == [reply]
    assert note not in str(status)

    case = (await officer.get(f"/api/v1/cases/{ref}")).json()
    assert [m["body"] for m in case["messages"]] == [reply]
    assert [n["body"] for n in case["notes"]] == [note]


async def test_wrong_password_wrong_code_and_replayed_code_are_refused(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    wrong_password = await login(seeded, client, OFFICER, password="not the password at all")
    assert wrong_password.status_code == 401
    assert COOKIE not in wrong_password.cookies

    code = await fresh_totp(seeded, OFFICER)
    wrong = "000000" if code != "000000" else "111111"
    wrong_code = await login(seeded, client, OFFICER, totp=wrong)
    assert wrong_code.status_code == 401 and COOKIE not in wrong_code.cookies

    first = await login(seeded, client, OFFICER, totp=code)
    assert first.status_code == 200
    replayed = await login(seeded, client, OFFICER, totp=code)
    assert replayed.status_code == 401 and COOKIE not in replayed.cookies
    assert "error" in replayed.json() and "csrf" not in replayed.json()

    unknown = await login(seeded, client, "nobody@example.org", totp="123456")
    assert unknown.status_code == 401
    assert unknown.json()["error"] == wrong_password.json()["error"]


async def test_repeated_failures_lock_the_account_with_a_clear_wait(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    limit = seeded.settings.login_max_failures
    for _ in range(limit):
        answer = await login(seeded, client, OFFICER, password="wrong password, again")
        assert answer.status_code == 401
    locked = await login(seeded, client, OFFICER)  # right password and code
    assert locked.status_code == 429
    assert "Try again in 15 minutes" in locked.json()["error"]
    # Another account is not affected.
    assert (await login(seeded, client, "officer2@example.org")).status_code == 200


async def test_unsafe_requests_need_the_csrf_token(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    await _file(client)
    officer = await sign_in(seeded, client, OFFICER)
    ref = (await officer.get("/api/v1/cases")).json()["cases"][0]["ref"]
    cookie_only = {"Cookie": f"{COOKIE}={officer.cookie}"}
    for wrong in ({}, {"X-CSRF-Token": "forged"}):
        answer = await client.post(
            f"/api/v1/cases/{ref}/stage",
            json={"stage": "acknowledged"},
            headers={**cookie_only, **wrong},
        )
        assert answer.status_code == 403 and "CSRF" in answer.json()["error"]
    case = (await officer.get(f"/api/v1/cases/{ref}")).json()
    assert case["stage"] == "received"


async def test_logout_and_idle_time_end_the_session(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    officer = await sign_in(seeded, client, OFFICER)
    assert (await officer.get("/api/v1/staff/me")).json()["email"] == OFFICER
    assert (await officer.post("/api/v1/staff/logout")).status_code == 200
    after = await officer.get("/api/v1/cases")
    assert after.status_code == 401

    again = await sign_in(seeded, client, OFFICER)
    idle = seeded.settings.session_idle_minutes
    async with db.transaction(seeded.runtime.sessions) as session:
        await session.exec(
            text("UPDATE staffsession SET last_seen = :then"),
            params={"then": utcnow() - timedelta(minutes=idle + 1)},
        )
    expired = await again.get("/api/v1/cases")
    assert expired.status_code == 401
    assert f"{idle} minutes without activity" in expired.json()["error"]
    async with seeded.runtime.sessions() as session:
        left = (await session.exec(text("SELECT count(*) FROM staffsession"))).one()
    assert left[0] == 0


async def test_sessions_left_to_expire_are_removed_at_the_next_sign_in(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    await sign_in(seeded, client, OFFICER)
    async with db.transaction(seeded.runtime.sessions) as session:
        await session.exec(
            text("UPDATE staffsession SET expires_at = :then"),
            params={"then": utcnow() - timedelta(minutes=1)},
        )
    await sign_in(seeded, client, "officer2@example.org")
    async with seeded.runtime.sessions() as session:
        left = (await session.exec(text("SELECT count(*) FROM staffsession"))).one()
    assert left[0] == 1


async def test_the_session_row_holds_no_usable_private_key(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    await sign_in(seeded, client, OFFICER)
    async with seeded.runtime.sessions() as session:
        wrapped = (await session.exec(text("SELECT wrapped_key FROM staffsession"))).one()[0]
    assert seeded.staff_private[OFFICER] not in bytes(wrapped)


async def test_stage_rules_are_enforced_with_clear_messages(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    token = await _file(client)
    officer = await sign_in(seeded, client, OFFICER)
    ref = (await officer.get("/api/v1/cases")).json()["cases"][0]["ref"]

    skip = await officer.post(f"/api/v1/cases/{ref}/stage", {"stage": "investigating"})
    assert skip.status_code == 422
    assert "cannot move to investigating" in skip.json()["error"]
    unknown = await officer.post(f"/api/v1/cases/{ref}/stage", {"stage": "closed"})
    assert unknown.status_code == 422

    for stage in ("acknowledged", "assessing"):
        assert (await officer.post(f"/api/v1/cases/{ref}/stage", {"stage": stage})).is_success
    no_outcome = await officer.post(f"/api/v1/cases/{ref}/stage", {"stage": "concluded"})
    assert no_outcome.status_code == 422 and "outcome" in no_outcome.json()["error"]
    concluded = await officer.post(
        f"/api/v1/cases/{ref}/stage",
        {
            "stage": "concluded",
            "outcome": "referred",
            "reason": "Sent to the state auditor.",
            "message": "We passed your report on to the right office.",
        },
    )
    assert concluded.status_code == 200
    reopened = await officer.post(f"/api/v1/cases/{ref}/stage", {"stage": "assessing"})
    assert reopened.status_code == 422 and "concluded" in reopened.json()["error"]

    case = (await officer.get(f"/api/v1/cases/{ref}")).json()
    assert case["outcome"] == "referred"
    assert case["outcome_reason"] == "Sent to the state auditor."
    status = (await client.post("/api/v1/reports/status", json={"token": token})).json()
    assert status["stage"] == "concluded" and status["outcome"] == "referred"
    assert "state auditor" not in str(status)


async def test_password_change_re_encrypts_the_private_key(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    await _file(client)
    officer = await sign_in(seeded, client, OFFICER)
    new_password = "a much longer new passphrase"
    wrong = await officer.post(
        "/api/v1/staff/password", {"current": "not it at all!!", "new": new_password}
    )
    assert wrong.status_code == 422
    changed = await officer.post(
        "/api/v1/staff/password",
        {"current": seeded.staff_passwords[OFFICER], "new": new_password},
    )
    assert changed.status_code == 200
    assert (await login(seeded, client, OFFICER)).status_code == 401
    seeded.staff_passwords[OFFICER] = new_password
    again = await sign_in(seeded, client, OFFICER)
    ref = (await again.get("/api/v1/cases")).json()["cases"][0]["ref"]
    case = (await again.get(f"/api/v1/cases/{ref}")).json()
    assert case["report"]["body"] == REPORT_TEXT


async def test_queue_filters_and_pages(client: httpx.AsyncClient, seeded: Instance) -> None:
    for index in range(5):
        await _file(client, body=f"Report number {index}")
    officer = await sign_in(seeded, client, OFFICER)
    first = (await officer.get("/api/v1/cases", params={"limit": "2"})).json()
    second = (
        await officer.get("/api/v1/cases", params={"limit": "2", "after": first["next"]})
    ).json()
    third = (
        await officer.get("/api/v1/cases", params={"limit": "2", "after": second["next"]})
    ).json()
    refs = [row["ref"] for page in (first, second, third) for row in page["cases"]]
    assert len(refs) == 5 == len(set(refs)) and third["next"] is None

    ref = refs[0]
    await officer.post(f"/api/v1/cases/{ref}/stage", {"stage": "acknowledged"})
    acknowledged = (await officer.get("/api/v1/cases", params={"stage": "acknowledged"})).json()
    assert [row["ref"] for row in acknowledged["cases"]] == [ref]
    me = (await officer.get("/api/v1/staff/me")).json()["id"]
    await officer.post(f"/api/v1/cases/{refs[1]}/assign", {"staff_id": me})
    mine = (await officer.get("/api/v1/cases", params={"mine": "true"})).json()
    assert [row["ref"] for row in mine["cases"]] == [refs[1]]
    assert mine["cases"][0]["assignee"]["name"] == "Officer One"

    async with db.transaction(seeded.runtime.sessions) as session:
        await session.exec(
            text('UPDATE "case" SET ack_due = :day, next_due = :day WHERE ref = :ref'),
            params={"day": seeded.runtime.today() - timedelta(days=1), "ref": refs[2]},
        )
    overdue = (await officer.get("/api/v1/cases", params={"overdue": "1"})).json()
    assert [row["ref"] for row in overdue["cases"]] == [refs[2]]
    assert overdue["cases"][0]["overdue"] is True

    bad = await officer.get("/api/v1/cases", params={"stage": "lost"})
    assert bad.status_code == 422
    bad_cursor = await officer.get("/api/v1/cases", params={"after": "%%%"})
    assert bad_cursor.status_code == 422


async def test_staff_entered_report_and_linked_reprisal_complaint(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    original = await _file(client)
    officer = await sign_in(seeded, client, OFFICER)
    recorded = await officer.post(
        "/api/v1/cases",
        {
            "category": "reprisal",
            "body": "Caller says her shifts were cut after she reported.",
            "channel": "phone",
            "kind": "reprisal",
            "original_token": original,
        },
    )
    assert recorded.status_code == 201, recorded.text
    token, ref = recorded.json()["token"], recorded.json()["ref"]
    case = (await officer.get(f"/api/v1/cases/{ref}")).json()
    assert case["channel"] == "phone" and case["kind"] == "reprisal"
    assert case["linked_case"] is not None
    reprisal_days = seeded.runtime.rules.reprisal_ack_days
    assert (
        case["due"]["acknowledgement"]
        == (seeded.runtime.today() + timedelta(days=reprisal_days)).isoformat()
    )
    status = await client.post("/api/v1/reports/status", json={"token": token})
    assert status.status_code == 200 and status.json()["stage"] == "received"

    web = await officer.post(
        "/api/v1/cases", {"category": "financial", "body": "x", "channel": "web"}
    )
    assert web.status_code == 422


async def test_the_reprisal_category_makes_a_reprisal_complaint(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    await _file(client, category="reprisal", body="My shifts were cut after I reported.")
    officer = await sign_in(seeded, client, OFFICER)
    row = (await officer.get("/api/v1/cases")).json()["cases"][0]
    assert row["kind"] == "reprisal"
    reprisal_days = seeded.runtime.rules.reprisal_ack_days
    assert (
        row["due"]["acknowledgement"]
        == (seeded.runtime.today() + timedelta(days=reprisal_days)).isoformat()
    )
