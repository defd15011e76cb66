"""When an administrator creates or resets an account, the page shows the authenticator QR code
once (inline SVG, no script, nothing fetched) with the secret in text; a QR reader finds the
otpauth address in it, and the person signs in with it. No other page shows it again."""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qs, unquote, urlparse

import httpx
import pyotp
import pytest

from intake.accounts import organisation
from tests.support import qr
from tests.support.instance import Instance
from tests.support.staffing import sign_in_on_the_page

ADMIN = "admin@example.org"


async def _sign_in(client: httpx.AsyncClient, made: Instance, email: str) -> str:
    client.cookies.clear()
    await sign_in_on_the_page(made, client, email)
    page = (await client.get("/staff/")).text
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def _enrolment(page: str, email: str, issuer: str = "Quietline") -> str:
    """The secret the page shows, after checking that its one QR code holds it for ``email``."""
    svgs = qr.svgs_in(page)
    assert len(svgs) == 1
    assert "<script" not in page and "<image" not in svgs[0] and "href" not in svgs[0]
    secret = re.search(r'class="token">([A-Z2-7]+)<', page).group(1)
    [uri] = qr.decode(svgs[0])
    parsed = urlparse(uri)
    assert (parsed.scheme, parsed.netloc) == ("otpauth", "totp")
    assert unquote(parsed.path) == f"/{issuer}:{email}"
    query = parse_qs(parsed.query)
    assert query["secret"] == [secret] and query["issuer"] == [issuer]
    return secret


async def _signs_in_with(client: httpx.AsyncClient, email: str, password: str, secret: str) -> bool:
    saved = dict(client.cookies)
    client.cookies.clear()
    answer = await client.post(
        "/api/v1/staff/login",
        json={"email": email, "password": password, "totp": pyotp.TOTP(secret).now()},
    )
    client.cookies.clear()
    client.cookies.update(saved)
    return answer.status_code == 200


async def test_a_new_account_shows_its_qr_code_once(
    sqlite_client: httpx.AsyncClient, sqlite_seeded: Instance, caplog: pytest.LogCaptureFixture
) -> None:
    client = sqlite_client
    csrf = await _sign_in(client, sqlite_seeded, ADMIN)
    email, password = "clerk@example.org", "a first password for the clerk"
    with caplog.at_level(logging.DEBUG):
        added = await client.post(
            "/admin/staff",
            data={
                "csrf": csrf,
                "name": "New Clerk",
                "email": email,
                "role": "officer",
                "group": "solicitor",
                "password": password,
            },
        )
    assert added.status_code == 201
    assert added.headers["cache-control"] == "no-store"
    secret = _enrolment(added.text, email)
    assert secret not in caplog.text and "otpauth" not in caplog.text
    assert await _signs_in_with(client, email, password, secret)

    overview = await client.get("/admin/")
    person_id = re.search(r'href="/admin/staff/([0-9a-f]+)">New Clerk<', overview.text).group(1)
    for later in (overview, await client.get(f"/admin/staff/{person_id}")):
        assert later.status_code == 200
        assert not qr.svgs_in(later.text) and secret not in later.text


async def test_a_reset_account_shows_its_new_qr_code_once(
    sqlite_client: httpx.AsyncClient, sqlite_seeded: Instance
) -> None:
    client = sqlite_client
    csrf = await _sign_in(client, sqlite_seeded, ADMIN)
    people = (await client.get("/admin/")).text
    person_id = re.search(r'href="/admin/staff/([0-9a-f]+)">Officer Three<', people).group(1)
    email, password = "officer3@example.org", "a brand new password"
    reset = await client.post(
        f"/admin/staff/{person_id}/reset",
        data={"csrf": csrf, "password": password, "understood": "yes"},
    )
    assert reset.status_code == 200
    secret = _enrolment(reset.text, email)
    assert secret != sqlite_seeded.totp_secrets.get(email)
    assert await _signs_in_with(client, email, password, secret)
    again = await client.get(f"/admin/staff/{person_id}")
    assert not qr.svgs_in(again.text) and secret not in again.text


async def test_the_authenticator_shows_the_organisation_name(
    sqlite_client: httpx.AsyncClient, sqlite_seeded: Instance
) -> None:
    """Once the administrators name the organisation, the app lists the code under that name."""
    await organisation.store(
        sqlite_seeded.runtime,
        organisation.form_from(organisation.Identity(), name_en="City of Medicine Hat"),
        actor="test",
    )
    csrf = await _sign_in(sqlite_client, sqlite_seeded, ADMIN)
    added = await sqlite_client.post(
        "/admin/staff",
        data={
            "csrf": csrf,
            "name": "Named Clerk",
            "email": "named@example.org",
            "role": "officer",
            "group": "solicitor",
            "password": "a password for the named clerk",
        },
    )
    assert added.status_code == 201
    _enrolment(added.text, "named@example.org", issuer="City of Medicine Hat")
