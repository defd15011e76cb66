"""Signing staff in from tests: fresh TOTP codes (a spent time step is refused) and CSRF headers."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx
import pyotp

from intake.accounts import keyring
from tests.support.instance import Instance

STEP = 30


async def fresh_totp(made: Instance, email: str) -> str:
    """A code for a time step this account has not spent yet and that stays valid a while.

    The server accepts the steps current-1 .. current+1. The oldest step is used
    only when the next 30-second boundary is more than 5 s away, so a code never
    goes stale between choosing it and the server checking it.
    """
    async with made.runtime.sessions() as session:
        staff = await keyring.staff_by_email(session, email)
        assert staff is not None
        last = staff.totp_last_step
    while True:
        now = time.time()
        current = int(now) // STEP
        to_boundary = (current + 1) * STEP - now
        usable = [
            step
            for step in (current - 1, current, current + 1)
            if step > last and (step >= current or to_boundary > 5)
        ]
        if usable:
            return pyotp.TOTP(made.totp_secrets[email]).at(usable[0] * STEP)
        await asyncio.sleep(to_boundary + 0.2)


COOKIE = "quietline_staff"  # the development name; __Host-quietline_staff in production


@dataclass
class StaffClient:
    """One signed-in staff member on a shared client: their own cookie and CSRF header.

    The cookie is sent explicitly (the client's jar is left empty), so several staff members
    can use one client side by side.
    """

    http: httpx.AsyncClient
    cookie: str
    csrf: str
    email: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Cookie": f"{COOKIE}={self.cookie}", "X-CSRF-Token": self.csrf}

    async def get(self, path: str, params: dict[str, str] | None = None) -> httpx.Response:
        return await self.http.get(path, params=params, headers=self.headers)

    async def post(self, path: str, json: object = None) -> httpx.Response:
        return await self.http.post(path, json=json, headers=self.headers)

    async def delete(self, path: str) -> httpx.Response:
        return await self.http.delete(path, headers=self.headers)


async def login(
    made: Instance, http: httpx.AsyncClient, email: str, **override: str
) -> httpx.Response:
    """One sign-in attempt (a fresh code unless ``totp`` is given); leaves the jar empty."""
    body = {
        "email": email,
        "password": made.staff_passwords.get(email, "x" * 12),
        **override,
    }
    if "totp" not in body:
        body["totp"] = await fresh_totp(made, email)
    answer = await http.post("/api/v1/staff/login", json=body)
    http.cookies.clear()
    return answer


async def sign_in(made: Instance, http: httpx.AsyncClient, email: str) -> StaffClient:
    answer = await login(made, http, email)
    assert answer.status_code == 200, answer.text
    return StaffClient(
        http=http, cookie=answer.cookies[COOKIE], csrf=answer.json()["csrf"], email=email
    )
