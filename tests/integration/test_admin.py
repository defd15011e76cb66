"""Administration: accounts, categories, groups and deadlines, managed without reading any case."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pyotp
from sqlalchemy import text

from intake.storage import db
from tests.support.instance import Instance
from tests.support.staffing import fresh_totp, sign_in_on_the_page

ADMIN = "admin@example.org"


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found
    return found.group(1)


async def _sign_in(client: httpx.AsyncClient, made: Instance, email: str) -> str:
    client.cookies.clear()
    await sign_in_on_the_page(made, client, email)
    return _csrf((await client.get("/staff/")).text)


async def _audit_actions(made: Instance) -> list[str]:
    async with made.runtime.sessions() as session:
        rows = (await session.exec(text("SELECT action FROM auditevent ORDER BY seq"))).all()
    return [row[0] for row in rows]


async def test_only_administrators_reach_the_admin_pages(
    sqlite_client: httpx.AsyncClient, sqlite_seeded: Instance
) -> None:
    client = sqlite_client
    assert (await client.get("/admin/")).status_code == 401
    csrf = await _sign_in(client, sqlite_seeded, "officer1@example.org")
    assert (await client.get("/admin/")).status_code == 403
    refused = await client.post(
        "/admin/deadlines",
        data={"csrf": csrf, "ack_days": "1", "reprisal_ack_days": "1", "feedback_months": "1"},
    )
    assert refused.status_code == 403


async def test_an_admin_adds_a_staff_member_who_can_then_sign_in(
    sqlite_client: httpx.AsyncClient, sqlite_seeded: Instance
) -> None:
    client = sqlite_client
    csrf = await _sign_in(client, sqlite_seeded, ADMIN)
    page = await client.get("/admin/")
    assert page.status_code == 200 and "officer1@example.org" in page.text
    # The address the add form posts to answers a GET too (a reload after an error lands there).
    listed = await client.get("/admin/staff")
    assert listed.status_code == 200 and "officer1@example.org" in listed.text
    short = await client.post(
        "/admin/staff",
        data={
            "csrf": csrf,
            "name": "New Clerk",
            "email": "clerk@example.org",
            "role": "officer",
            "group": "solicitor",
            "password": "short",
        },
    )
    assert short.status_code == 422 and "12 characters" in short.text
    added = await client.post(
        "/admin/staff",
        data={
            "csrf": csrf,
            "name": "New Clerk",
            "email": "clerk@example.org",
            "role": "officer",
            "group": "solicitor",
            "password": "a first password for the clerk",
        },
    )
    assert added.status_code == 201
    secret = re.search(r'class="token">([A-Z2-7]+)<', added.text).group(1)
    client.cookies.clear()
    signed_in = await client.post(
        "/api/v1/staff/login",
        json={
            "email": "clerk@example.org",
            "password": "a first password for the clerk",
            "totp": pyotp.TOTP(secret).now(),
        },
    )
    assert signed_in.status_code == 200
    assert "admin.staff_add" in await _audit_actions(sqlite_seeded)


async def test_disabling_ends_sessions_and_reset_warns_that_old_cases_are_lost(
    sqlite_client: httpx.AsyncClient, sqlite_seeded: Instance
) -> None:
    client = sqlite_client
    filed = await client.post("/api/v1/reports", json={"category": "safety", "body": "Leak."})
    assert filed.status_code == 201
    officer = await client.post(
        "/api/v1/staff/login",
        json={
            "email": "officer2@example.org",
            "password": sqlite_seeded.staff_passwords["officer2@example.org"],
            "totp": await fresh_totp(sqlite_seeded, "officer2@example.org"),
        },
    )
    officer_cookie = {"Cookie": f"quietline_staff={officer.cookies['quietline_staff']}"}
    client.cookies.clear()
    assert (await client.get("/api/v1/cases", headers=officer_cookie)).status_code == 200
    csrf = await _sign_in(client, sqlite_seeded, ADMIN)
    people = (await client.get("/admin/")).text
    officer2_id = re.search(r'href="/admin/staff/([0-9a-f]+)">Officer Two<', people).group(1)

    officer3_id = re.search(r'href="/admin/staff/([0-9a-f]+)">Officer Three<', people).group(1)

    async def copies_held(staff_id: str) -> int:
        async with sqlite_seeded.runtime.sessions() as session:
            held = (
                await session.exec(
                    text("SELECT count(*) FROM casekey WHERE staff_id = :id"),
                    params={"id": staff_id},
                )
            ).one()
        return int(held[0])

    assert await copies_held(officer2_id) == 1
    disabled = await client.post(
        f"/admin/staff/{officer2_id}/active", data={"csrf": csrf, "active": "no"}
    )
    assert disabled.status_code == 303
    admin_cookies = dict(client.cookies)
    client.cookies.clear()
    assert (await client.get("/api/v1/cases", headers=officer_cookie)).status_code == 401
    client.cookies.update(admin_cookies)
    # Disabling takes every copy away at once; enabling again gives none back.
    assert await copies_held(officer2_id) == 0
    await client.post(f"/admin/staff/{officer2_id}/active", data={"csrf": csrf, "active": "yes"})
    assert await copies_held(officer2_id) == 0

    person_page = await client.get(f"/admin/staff/{officer3_id}")
    assert "unreadable" in person_page.text
    unconfirmed = await client.post(
        f"/admin/staff/{officer3_id}/reset",
        data={"csrf": csrf, "password": "a brand new password"},
    )
    assert unconfirmed.status_code == 422
    reset = await client.post(
        f"/admin/staff/{officer3_id}/reset",
        data={"csrf": csrf, "password": "a brand new password", "understood": "yes"},
    )
    assert reset.status_code == 200
    assert "1 cases are no longer readable" in reset.text
    assert await copies_held(officer3_id) == 0
    actions = await _audit_actions(sqlite_seeded)
    assert {"admin.staff_disable", "admin.staff_enable", "admin.staff_reset"} <= set(actions)
    # The administrator read no case while doing all this.
    assert "case.view" not in actions


async def test_categories_and_deadlines_are_configuration(
    sqlite_client: httpx.AsyncClient, sqlite_seeded: Instance
) -> None:
    client = sqlite_client
    csrf = await _sign_in(client, sqlite_seeded, ADMIN)
    added = await client.post(
        "/admin/categories",
        data={"csrf": csrf, "action": "add", "id": "fraud", "label": "Fraud in grants"},
    )
    assert added.status_code == 303
    retired = await client.post(
        "/admin/categories",
        data={"csrf": csrf, "action": "update", "id": "social-media", "label": "Social media"},
    )
    assert retired.status_code == 303
    offered = [item["id"] for item in (await client.get("/api/v1/form")).json()["categories"]]
    assert "fraud" in offered and "social-media" not in offered

    bad = await client.post(
        "/admin/deadlines",
        data={
            "csrf": csrf,
            "ack_days": "three",
            "reprisal_ack_days": "1",
            "feedback_months": "3",
            "clock": "calendar",
            "holidays": "",
        },
    )
    assert bad.status_code == 422 and "Days to acknowledge" in bad.text
    saved = await client.post(
        "/admin/deadlines",
        data={
            "csrf": csrf,
            "ack_days": "10",
            "reprisal_ack_days": "1",
            "feedback_months": "2",
            "clock": "calendar",
            "holidays": "2030-01-01\n2030-12-25",
        },
    )
    assert saved.status_code == 303
    filed = await client.post("/api/v1/reports", json={"category": "fraud", "body": "Grant."})
    assert filed.status_code == 201
    token = filed.json()["token"]
    status = (await client.post("/api/v1/reports/status", json={"token": token})).json()
    today = sqlite_seeded.runtime.today()
    assert status["due"]["acknowledgement"] == (today + timedelta(days=10)).isoformat()
    # The guidance a reporter reads before the form states the deadlines now in force.
    process = (await client.get("/guide/process")).text
    assert "10 days" in process and "2 months" in process

    groups = await client.get("/admin/groups")
    assert "solicitor" in groups.text and "alternate" in groups.text
    async with db.transaction(sqlite_seeded.runtime.sessions) as session:
        await session.exec(text("UPDATE staff SET active = false WHERE group_name = 'alternate'"))
    assert "no active intake officer" in (await client.get("/admin/groups")).text
