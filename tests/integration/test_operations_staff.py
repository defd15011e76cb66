"""Operations behind the staff session: statistics, export and legal hold, over HTTP."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from sqlmodel import col, select

from intake.casework import retention
from intake.storage.models import AuditEvent, Case
from tests.support.casefactory import file_report, update_case
from tests.support.instance import Instance
from tests.support.staffing import fresh_totp, sign_in

OFFICER = "officer1@example.org"
MARKER = "Payments to a shell company in the parks budget."


async def _audit_actions(made: Instance, ref: str) -> list[tuple[str, str]]:
    async with made.runtime.sessions() as session:
        rows = await session.exec(
            select(AuditEvent).where(AuditEvent.case_ref == ref).order_by(col(AuditEvent.seq))
        )
        return [(event.actor, event.action) for event in rows.all()]


async def test_export_over_the_api_for_key_holders_only(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    _, case = await file_report(seeded.runtime, body=MARKER)
    officer = await sign_in(seeded, client, OFFICER)
    outsider = await sign_in(seeded, client, "alternate@example.org")
    investigator = await sign_in(seeded, client, "investigator@example.org")

    reply = await officer.post(f"/api/v1/cases/{case.ref}/messages", {"body": "We read it."})
    assert reply.status_code == 201
    answer = await officer.post(f"/api/v1/cases/{case.ref}/export")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert "attachment" in answer.headers["content-disposition"]
    assert MARKER in answer.text and "We read it." in answer.text
    assert "<script" not in answer.text.lower()

    for refused in (outsider, investigator):  # no key: as if the case did not exist
        denied = await refused.post(f"/api/v1/cases/{case.ref}/export")
        assert denied.status_code == 404 and MARKER not in denied.text
    anonymous = await client.post(f"/api/v1/cases/{case.ref}/export")
    assert anonymous.status_code == 401
    forged = await client.post(
        f"/api/v1/cases/{case.ref}/export", headers={"Cookie": officer.headers["Cookie"]}
    )
    assert forged.status_code == 403

    actions = await _audit_actions(seeded, case.ref)
    assert actions.count((OFFICER, "case.export")) == 1
    assert not any(action == "case.export" and actor != OFFICER for actor, action in actions)
    # The office's first reply is kept, to the day, for the feedback statistics.
    async with seeded.runtime.sessions() as session:
        stored = (await session.exec(select(Case).where(Case.id == case.id))).one()
    assert stored.first_reply_on == seeded.runtime.today()


async def test_legal_hold_over_the_api_stops_the_purge(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    runtime = seeded.runtime
    _, case = await file_report(runtime, body=MARKER)
    today = runtime.today()
    await update_case(
        runtime,
        case.id,
        stage="concluded",
        outcome="no_action",
        concluded_on=today - timedelta(days=400),
        deletion_notice_on=today - timedelta(days=100),
    )
    officer = await sign_in(seeded, client, OFFICER)
    investigator = await sign_in(seeded, client, "investigator@example.org")

    refused = await investigator.post(f"/api/v1/cases/{case.ref}/legal-hold", {"hold": True})
    assert refused.status_code in (403, 404)
    bad = await officer.post(f"/api/v1/cases/{case.ref}/legal-hold", {"hold": "please"})
    assert bad.status_code == 422
    held = await officer.post(f"/api/v1/cases/{case.ref}/legal-hold", {"hold": True})
    assert held.status_code == 200 and held.json() == {"ref": case.ref, "legal_hold": True}

    report = await retention.run(runtime)
    assert case.ref in report.held and case.ref not in report.purged
    shown = await officer.get(f"/api/v1/cases/{case.ref}")
    assert shown.status_code == 200 and shown.json()["report"]["body"] == MARKER

    released = await officer.post(f"/api/v1/cases/{case.ref}/legal-hold", {"hold": False})
    assert released.json()["legal_hold"] is False
    assert case.ref in (await retention.run(runtime)).purged
    gone = await officer.get(f"/api/v1/cases/{case.ref}")
    assert gone.status_code == 404
    actions = [action for _, action in await _audit_actions(seeded, case.ref)]
    assert actions.count("case.legal_hold") == 1
    assert actions.count("case.legal_hold_released") == 1
    assert actions[-1] == "case.purged"


async def test_stats_api_and_page(client: httpx.AsyncClient, seeded: Instance) -> None:
    for _ in range(6):
        await file_report(seeded.runtime, category="safety")
    await file_report(seeded.runtime, category="conduct")
    year = seeded.runtime.today().year
    officer = await sign_in(seeded, client, OFFICER)
    investigator = await sign_in(seeded, client, "investigator@example.org")

    figures = await officer.get("/api/v1/stats", {"year": str(year)})
    assert figures.status_code == 200
    assert figures.json()["received"] == 7
    assert figures.json()["by_category"]["safety"] == "withheld"  # or conduct = 7 - 6
    assert figures.json()["by_category"]["conduct"] == "fewer than 5"
    assert (await investigator.get("/api/v1/stats")).status_code == 403
    assert (await client.get("/api/v1/stats")).status_code == 401
    future = await officer.get("/api/v1/stats", {"year": str(year + 1)})
    assert future.status_code == 422 and "Choose a year" in future.json()["error"]
    table = await officer.get("/api/v1/stats", {"year": str(year), "format": "csv"})
    assert table.headers["content-type"].startswith("text/csv")
    assert "received,7" in table.text


async def test_stats_page_and_hold_form_in_the_browser_flow(
    sqlite_client: httpx.AsyncClient, sqlite_seeded: Instance
) -> None:
    _, case = await file_report(sqlite_seeded.runtime, body=MARKER)
    signed = await sqlite_client.post(
        "/staff/login",
        data={
            "email": OFFICER,
            "password": sqlite_seeded.staff_passwords[OFFICER],
            "totp": await fresh_totp(sqlite_seeded, OFFICER),
        },
    )
    assert signed.status_code == 303
    page = await sqlite_client.get("/staff/stats")
    assert page.status_code == 200
    assert page.text.count("<svg") == 3 and "<script" not in page.text
    assert 'href="/staff/stats"' in page.text
    csv_file = await sqlite_client.get("/staff/stats", params={"format": "csv"})
    assert csv_file.headers["content-type"].startswith("text/csv")

    case_page = await sqlite_client.get(f"/staff/cases/{case.ref}")
    csrf = re.search(r'name="csrf" value="([^"]+)"', case_page.text).group(1)
    assert "Put on legal hold" in case_page.text
    held = await sqlite_client.post(
        f"/staff/cases/{case.ref}/legal-hold", data={"csrf": csrf, "hold": "on"}
    )
    assert held.status_code == 303
    after = await sqlite_client.get(held.headers["location"])
    assert "Lift the legal hold" in after.text and "will not be deleted" in after.text
    exported = await sqlite_client.post(f"/staff/cases/{case.ref}/export", data={"csrf": csrf})
    assert exported.status_code == 200 and MARKER in exported.text
    no_csrf = await sqlite_client.post(f"/staff/cases/{case.ref}/export", data={})
    assert no_csrf.status_code == 403
