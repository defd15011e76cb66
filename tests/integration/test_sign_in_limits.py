"""Sign-in that strangers cannot race or lock: attempts reserved before the password is checked,
password changes counted like sign-ins, the staff networks, and a global protection that slows
strangers down instead of pausing everyone."""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
from sqlmodel import select

from intake.accounts import keyring
from intake.storage import db
from intake.storage.models import AuditEvent
from intake.web.app import create_app
from tests.support.instance import Instance
from tests.support.live import bytes_written_under
from tests.support.staffing import COOKIE, fresh_totp, login, sign_in

OFFICER = "officer1@example.org"
WRONG = "not the password at all"
INSIDE = "10.20.30.40"
OUTSIDE = "198.51.100.7"
STAFF_NETWORKS = (ipaddress.ip_network("10.20.0.0/16"), ipaddress.ip_network("2001:db8::/48"))


@asynccontextmanager
async def app_client(
    made: Instance, *, address: str = "127.0.0.1", **changes: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A client for an app with changed settings on the same instance, from ``address``."""
    settings = dataclasses.replace(made.settings, **changes)
    runtime = dataclasses.replace(made.runtime, settings=settings)
    app = create_app(settings, runtime=runtime)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(address, 4711))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            yield client


async def _audited(made: Instance, action: str, actor: str = OFFICER) -> list[AuditEvent]:
    async with made.runtime.sessions() as session:
        found = await session.exec(
            select(AuditEvent).where(AuditEvent.action == action, AuditEvent.actor == actor)
        )
        return list(found.all())


async def _failures(made: Instance, email: str = OFFICER) -> int:
    async with made.runtime.sessions() as session:
        staff = await keyring.staff_by_email(session, email)
        assert staff is not None
        return staff.failed_logins


# --- 1. Concurrent guesses each count -------------------------------------------------------


async def test_25_concurrent_wrong_passwords_count_as_25_and_lock_the_account(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    """Before, the lock was checked before the queued derivation and the failure counted after
    it: 25 guesses sent at once were all tried, and the right password then signed in."""
    code = await fresh_totp(seeded, OFFICER)
    guesses = [
        client.post(
            "/api/v1/staff/login", json={"email": OFFICER, "password": f"{WRONG} {n}", "totp": code}
        )
        for n in range(25)
    ]
    answers = await asyncio.gather(*guesses)
    statuses = sorted(answer.status_code for answer in answers)
    max_failures = seeded.settings.login_max_failures
    # Each guess took its place before its password was checked: only the first five were
    # tried, the other twenty were refused as locked without a derivation.
    assert statuses == [401] * max_failures + [429] * (25 - max_failures), statuses
    assert len(await _audited(seeded, "staff.sign_in_failed")) == max_failures
    assert COOKIE not in client.cookies

    # The right password and a fresh code are refused while the lock lasts...
    locked = await login(seeded, client, OFFICER)
    assert locked.status_code == 429, locked.text
    assert int(locked.headers["retry-after"]) > 0
    # ...and accepted once it has passed, which clears the count.
    seeded.clock.advance(timedelta(minutes=seeded.settings.login_lock_minutes, seconds=1))
    opened = await login(seeded, client, OFFICER)
    assert opened.status_code == 200, opened.text
    assert await _failures(seeded) == 0


async def test_a_lock_expires_and_the_count_starts_again(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    for _ in range(seeded.settings.login_max_failures):
        assert (await login(seeded, client, OFFICER, password=WRONG)).status_code == 401
    assert (await login(seeded, client, OFFICER)).status_code == 429
    seeded.clock.advance(timedelta(minutes=seeded.settings.login_lock_minutes, seconds=1))
    # After the lock: a new series of failures, not one more on the old one.
    assert (await login(seeded, client, OFFICER, password=WRONG)).status_code == 401
    assert await _failures(seeded) == 1
    assert (await login(seeded, client, OFFICER)).status_code == 200


# --- 2. Changing one's password is counted, locked and audited -------------------------------


async def test_guessing_the_current_password_locks_the_account_and_ends_its_sessions(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    """Before, a stolen session could guess the current password without limit, unaudited."""
    officer = await sign_in(seeded, client, OFFICER)
    max_failures = seeded.settings.login_max_failures
    for n in range(max_failures):
        guess = await officer.post(
            "/api/v1/staff/password", {"current": f"guess number {n}", "new": "a brand new one 42"}
        )
        assert guess.status_code == 422, guess.text
        assert "current password is not right" in guess.json()["error"]
    failed = await _audited(seeded, "staff.password_change_failed")
    assert len(failed) == max_failures
    assert "locked_minutes" in failed[-1].detail
    # Neither the guesses nor the new password reach the audit log.
    assert not any(
        "guess number" in event.detail or "brand new" in event.detail for event in failed
    )
    # The lock ended the session: the guesser is out, and cannot sign in again for now.
    assert (await officer.get("/api/v1/staff/me")).status_code == 401
    assert (await login(seeded, client, OFFICER)).status_code == 429


async def test_concurrent_guesses_of_the_current_password_each_count(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    officer = await sign_in(seeded, client, OFFICER)
    guesses = [
        officer.post("/api/v1/staff/password", {"current": f"guess {n}", "new": "brand new 4242"})
        for n in range(12)
    ]
    statuses = [answer.status_code for answer in await asyncio.gather(*guesses)]
    max_failures = seeded.settings.login_max_failures
    # Five were tried; the rest were refused as locked, or found the session already ended.
    assert statuses.count(422) == max_failures, statuses
    assert set(statuses) <= {422, 429, 401}, statuses
    assert len(await _audited(seeded, "staff.password_change_failed")) == max_failures


async def test_a_locked_account_cannot_change_its_password(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    officer = await sign_in(seeded, client, OFFICER)
    async with db.transaction(seeded.runtime.sessions) as session:
        staff = await keyring.staff_by_email(session, OFFICER)
        assert staff is not None
        staff.locked_until = seeded.clock.now() + timedelta(minutes=10)
        session.add(staff)
    refused = await officer.post(
        "/api/v1/staff/password",
        {"current": seeded.staff_passwords[OFFICER], "new": "a brand new one 42"},
    )
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert "locked" in refused.json()["error"]


async def test_a_password_change_after_a_wrong_guess_succeeds_clears_the_count_and_is_audited(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    officer = await sign_in(seeded, client, OFFICER)
    wrong = await officer.post(
        "/api/v1/staff/password", {"current": WRONG, "new": "a brand new one 42"}
    )
    assert wrong.status_code == 422
    assert await _failures(seeded) == 1
    changed = await officer.post(
        "/api/v1/staff/password",
        {"current": seeded.staff_passwords[OFFICER], "new": "a brand new one 42"},
    )
    assert changed.status_code == 200, changed.text
    assert await _failures(seeded) == 0
    assert len(await _audited(seeded, "staff.password_change_failed")) == 1
    assert len(await _audited(seeded, "staff.password_changed")) == 1


async def test_the_password_page_says_when_the_account_is_locked(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    officer = await sign_in(seeded, client, OFFICER)
    for _ in range(seeded.settings.login_max_failures - 1):
        await officer.post("/api/v1/staff/password", {"current": WRONG, "new": "another one 4242"})
    # One place left: the page's wrong guess takes it, and shows the form again.
    page = await client.post(
        "/staff/password",
        data={
            "csrf": officer.csrf,
            "current": WRONG,
            "new": "another one 4242",
            "repeat": "another one 4242",
        },
        headers={"Cookie": f"{COOKIE}={officer.cookie}"},
    )
    assert page.status_code == 422 and "current password is not right" in page.text


# --- 3. Strangers: the staff networks, and a protection that slows instead of pausing --------


async def test_many_failures_slow_strangers_down_but_pause_nobody(seeded: Instance) -> None:
    """Before, 60 failed sign-ins a minute to unknown accounts paused every sign-in (429)."""
    async with app_client(seeded, login_global_failures_per_minute=3) as client:
        for email in ("nobody@example.org", "noone@example.org", "officer2@example.org"):
            answer = await login(seeded, client, email, password=WRONG, totp="123456")
            assert answer.status_code == 401
        assert seeded.clock.waits == []
        opened = await login(seeded, client, OFFICER)  # right password and code
    assert opened.status_code == 200, opened.text
    # It was slowed down (the clock was asked to wait), not refused.
    assert seeded.clock.waits == [seeded.settings.login_slowdown_seconds]


async def test_staff_on_an_allowed_network_are_never_slowed_down(seeded: Instance) -> None:
    changes: dict[str, Any] = {
        "login_global_failures_per_minute": 2,
        "staff_networks": STAFF_NETWORKS,
    }
    async with app_client(seeded, address=INSIDE, **changes) as client:
        for email in ("nobody@example.org", "noone@example.org", "nobody2@example.org"):
            await login(seeded, client, email, password=WRONG, totp="123456")
        opened = await login(seeded, client, OFFICER)
    assert opened.status_code == 200, opened.text
    assert seeded.clock.waits == []


async def test_staff_pages_answer_404_outside_the_staff_networks(seeded: Instance) -> None:
    async with app_client(seeded, address=OUTSIDE, staff_networks=STAFF_NETWORKS) as client:
        for path in ("/staff/login", "/staff/", "/admin/", "/api/v1/cases", "/api/v1/stats"):
            answer = await client.get(path)
            assert answer.status_code == 404, path
        api = await client.post(
            "/api/v1/staff/login",
            json={"email": OFFICER, "password": seeded.staff_passwords[OFFICER], "totp": "1"},
        )
        assert api.status_code == 404 and api.json() == {"error": "There is no such page."}
        # Exactly what a page that does not exist answers.
        missing = await client.get("/no-such-page")
        shown = (await client.get("/staff/login")).text
        assert shown == missing.text.replace("/no-such-page", "/staff/login")
        # Reporters are served from anywhere.
        assert (await client.get("/report")).status_code == 200
        # A stranger's wrong passwords lock nothing: they never reach the account.
        for _ in range(seeded.settings.login_max_failures + 2):
            await client.post(
                "/api/v1/staff/login", json={"email": OFFICER, "password": WRONG, "totp": "1"}
            )
    assert await _failures(seeded) == 0
    assert await _audited(seeded, "staff.sign_in_failed") == []
    async with app_client(seeded, address=INSIDE, staff_networks=STAFF_NETWORKS) as client:
        officer = await sign_in(seeded, client, OFFICER)
        assert (await officer.get("/api/v1/cases")).status_code == 200
    async with app_client(seeded, address="2001:db8:0:1::5", staff_networks=STAFF_NETWORKS) as c:
        assert (await c.get("/staff/login")).status_code == 200
    if seeded.settings.is_sqlite:
        written = bytes_written_under(seeded.settings.data_dir)
        assert OUTSIDE.encode() not in written and INSIDE.encode() not in written


async def test_behind_the_proxy_the_staff_address_comes_from_its_header_only(
    seeded: Instance,
) -> None:
    header = "x-quietline-staff-address"
    changes: dict[str, Any] = {"staff_networks": STAFF_NETWORKS, "staff_address_header": header}
    # The proxy connects from loopback (or, in compose, from an internal address).
    async with app_client(seeded, address=INSIDE, **changes) as client:
        # The connection's own address is not looked at: without the header, no staff page.
        assert (await client.get("/staff/login")).status_code == 404
        assert (await client.get("/staff/login", headers={header: OUTSIDE})).status_code == 404
        assert (
            await client.get("/staff/login", headers={header: "not an address"})
        ).status_code == 404
        assert (await client.get("/staff/login", headers={header: INSIDE})).status_code == 200
        assert (await client.get("/report")).status_code == 200
