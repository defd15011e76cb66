"""Signing staff in from tests: fresh TOTP codes (a spent time step is refused) and CSRF headers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import httpx
import pyotp

from intake.accounts import keyring
from tests.support.instance import Instance

STEP = 30


async def fresh_totp(made: Instance, email: str) -> str:
    """A code for a time step this account has not spent yet, without waiting for one.

    The server accepts the steps current-1 .. current+1 of its clock. The code is for the
    current step; when that one is spent, the instance's clock is moved on to the next unspent
    step. Since a code stays valid one step after its own, it cannot go stale before the
    server checks it.
    """
    async with made.runtime.sessions() as session:
        staff = await keyring.staff_by_email(session, email)
        assert staff is not None
        last = staff.totp_last_step
    current = int(made.clock.now().timestamp()) // STEP
    if last >= current:
        made.clock.advance(timedelta(seconds=(last + 1 - current) * STEP))
        current = last + 1
    return pyotp.TOTP(made.totp_secrets[email]).at(current * STEP)


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


async def sign_in_on_the_page(made: Instance, http: httpx.AsyncClient, email: str) -> None:
    """Sign in through the staff sign-in form, as a browser does: the session cookie stays in
    the jar."""
    answer = await http.post(
        "/staff/login",
        data={
            "email": email,
            "password": made.staff_passwords[email],
            "totp": await fresh_totp(made, email),
        },
    )
    assert answer.status_code == 303, answer.text
