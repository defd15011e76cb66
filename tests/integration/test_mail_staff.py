"""Staff choose their emails on the API and the staff pages; staff-side events notify too."""

from __future__ import annotations

import re

import httpx
from sqlmodel import select

from intake.operations import audit_verify
from intake.storage.models import AuditEvent, Outbox, Staff
from tests.support.instance import Instance
from tests.support.staffing import fresh_totp, sign_in

OFFICER = "officer1@example.org"


async def _kinds_by_email(made: Instance) -> dict[str, list[str]]:
    async with made.runtime.sessions() as session:
        rows = await session.exec(
            select(Staff.email, Outbox.kind).join(Staff, Staff.id == Outbox.staff_id)
        )
        found: dict[str, list[str]] = {}
        for email, kind in rows.all():
            found.setdefault(email, []).append(kind)
        return found


async def test_staff_choose_the_daily_digest_on_the_api(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    officer = await sign_in(seeded, client, OFFICER)
    assert (await officer.get("/api/v1/staff/me")).json()["notify"] == "immediate"

    no_csrf = await client.post(
        "/api/v1/staff/notifications",
        json={"mode": "digest"},
        headers={"Cookie": officer.headers["Cookie"]},
    )
    assert no_csrf.status_code == 403
    wrong = await officer.post("/api/v1/staff/notifications", {"mode": "hourly"})
    assert wrong.status_code == 422
    assert "immediate, digest" in wrong.json()["error"]

    chosen = await officer.post("/api/v1/staff/notifications", {"mode": "digest"})
    assert chosen.status_code == 200, chosen.text
    assert chosen.json() == {"notify": "digest"}
    assert (await officer.get("/api/v1/staff/me")).json()["notify"] == "digest"

    filed = await client.post("/api/v1/reports", json={"category": "safety", "body": "A leak."})
    assert filed.status_code == 201
    kinds = await _kinds_by_email(seeded)
    assert kinds == {
        OFFICER: ["held"],
        "alternate@example.org": ["notice"],
        "officer2@example.org": ["notice"],
        "officer3@example.org": ["notice"],
    }
    async with seeded.runtime.sessions() as session:
        events = await session.exec(select(AuditEvent).where(AuditEvent.action == "staff.notify"))
        [event] = events.all()
        assert event.actor == OFFICER and '"digest"' in event.detail
        assert (await audit_verify.verify(session)).ok


async def test_assignment_and_grant_notify_the_person_given_the_case(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    filed = await client.post("/api/v1/reports", json={"category": "safety", "body": "A leak."})
    assert filed.status_code == 201
    officer = await sign_in(seeded, client, OFFICER)
    ref = (await officer.get("/api/v1/cases")).json()["cases"][0]["ref"]
    people = {p["name"]: p["id"] for p in (await officer.get("/api/v1/staff")).json()}

    assigned = await officer.post(
        f"/api/v1/cases/{ref}/assign", {"staff_id": people["Investigator"]}
    )
    assert assigned.status_code == 200, assigned.text
    kinds = await _kinds_by_email(seeded)
    assert kinds["investigator@example.org"] == ["notice"]

    granted = await officer.post(
        f"/api/v1/cases/{ref}/grants", {"staff_id": people["Alternate Officer"]}
    )
    assert granted.status_code in (200, 201), granted.text
    kinds = await _kinds_by_email(seeded)
    assert kinds["alternate@example.org"] == ["notice"]
    assert "admin@example.org" not in kinds
    assert kinds[OFFICER] == ["notice"]  # their own actions give them nothing new


async def test_staff_choose_on_the_staff_page(
    sqlite_client: httpx.AsyncClient, sqlite_seeded: Instance
) -> None:
    client = sqlite_client
    answer = await client.post(
        "/staff/login",
        data={
            "email": OFFICER,
            "password": sqlite_seeded.staff_passwords[OFFICER],
            "totp": await fresh_totp(sqlite_seeded, OFFICER),
        },
    )
    assert answer.status_code == 303
    page = await client.get("/staff/notifications")
    assert page.status_code == 200
    assert 'href="/staff/notifications"' in page.text
    assert re.search(r'value="immediate" required checked', page.text)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf

    refused = await client.post("/staff/notifications", data={"mode": "digest"})
    assert refused.status_code == 403
    saved = await client.post(
        "/staff/notifications", data={"mode": "digest", "csrf": csrf.group(1)}
    )
    assert saved.status_code == 303
    page = await client.get(saved.headers["location"])
    assert "Your choice was saved." in page.text
    assert re.search(r'value="digest" required checked', page.text)

    bad = await client.post("/staff/notifications", data={"mode": "often", "csrf": csrf.group(1)})
    assert bad.status_code == 422
    assert "must be one of" in bad.text
