"""Sign-in lockouts and session lifetimes follow the runtime's clock: a test moves it on
instead of waiting or editing rows."""

from __future__ import annotations

from datetime import timedelta

import httpx

from tests.support.instance import Instance
from tests.support.staffing import login, sign_in

OFFICER = "officer1@example.org"


async def test_a_session_ends_when_idle_too_long_or_when_its_hours_are_up(
    sqlite_client: httpx.AsyncClient, sqlite_seeded: Instance
) -> None:
    hours = sqlite_seeded.settings.session_hours
    idle = sqlite_seeded.settings.session_idle_minutes
    officer = await sign_in(sqlite_seeded, sqlite_client, OFFICER)
    sqlite_seeded.clock.advance(timedelta(minutes=idle + 1))
    idled = await officer.get("/api/v1/staff/me")
    assert idled.status_code == 401
    assert f"{idle} minutes without activity" in idled.json()["error"]

    again = await sign_in(sqlite_seeded, sqlite_client, OFFICER)
    started = sqlite_seeded.clock.now()
    while sqlite_seeded.clock.now() - started < timedelta(hours=hours):
        assert (await again.get("/api/v1/staff/me")).status_code == 200
        sqlite_seeded.clock.advance(timedelta(minutes=idle - 1))
    ended = await again.get("/api/v1/staff/me")
    assert ended.status_code == 401
    assert f"sessions last at most {hours} hours" in ended.json()["error"]


async def test_a_locked_account_opens_again_when_the_lock_has_run_out(
    sqlite_client: httpx.AsyncClient, sqlite_seeded: Instance
) -> None:
    settings = sqlite_seeded.settings
    for _ in range(settings.login_max_failures):
        wrong = await login(sqlite_seeded, sqlite_client, OFFICER, password="not the password")
        assert wrong.status_code == 401
    locked = await login(sqlite_seeded, sqlite_client, OFFICER)
    assert locked.status_code == 429
    assert f"Try again in {settings.login_lock_minutes} minutes" in locked.json()["error"]

    sqlite_seeded.clock.advance(timedelta(minutes=settings.login_lock_minutes - 5))
    still = await login(sqlite_seeded, sqlite_client, OFFICER)
    assert still.status_code == 429 and "Try again in 5 minutes" in still.json()["error"]

    sqlite_seeded.clock.advance(timedelta(minutes=5, seconds=1))
    assert (await login(sqlite_seeded, sqlite_client, OFFICER)).status_code == 200
