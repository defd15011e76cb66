"""Staff-side benchmark helpers: signing in through the API, and the requests staff make."""

from __future__ import annotations

import httpx
import pyotp

from bench.driver import Request, RequestFactory

LOGIN_PATH = "/api/v1/staff/login"


async def has_staff_api(base_url: str) -> bool:
    """True when this build serves the staff case API (it answers 404 when it does not)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        answer = await client.get("/api/v1/cases")
    return answer.status_code != 404


async def sign_in(
    base_url: str, email: str, password: str, totp_secret: str
) -> tuple[httpx.Cookies, str]:
    """Sign in once; return the session cookie and the CSRF token for unsafe requests."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        answer = await client.post(
            LOGIN_PATH,
            json={"email": email, "password": password, "totp": pyotp.TOTP(totp_secret).now()},
        )
        if answer.status_code != 200:
            raise RuntimeError(f"sign-in failed: HTTP {answer.status_code} {answer.text}")
        return client.cookies, answer.json()["csrf"]


def login_requests(emails: list[str], password: str, totp_secret: str) -> RequestFactory:
    """The n-th sign-in uses the n-th account, with the code of the current 30-second step."""
    totp = pyotp.TOTP(totp_secret)

    def make(index: int) -> Request:
        return Request(
            "POST",
            LOGIN_PATH,
            json={"email": emails[index], "password": password, "totp": totp.now()},
        )

    return make


def get(path: str) -> RequestFactory:
    def make(_index: int) -> Request:
        return Request("GET", path)

    return make
