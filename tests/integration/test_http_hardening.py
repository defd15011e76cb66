"""HTTP hardening as a browser or an attacker meets it: headers, cross-site refusal, rate limits."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlmodel import func, select

from intake.config import ConfigError, load_settings
from intake.storage.models import Case, Entry
from intake.web.app import create_app
from tests.support import reports
from tests.support.instance import Instance
from tests.support.staffing import login, sign_in

REPORT = {"category": "financial", "body": "Invoices were paid twice."}
ONION = "quietl" + "a" * 50 + ".onion"


@asynccontextmanager
async def app_client(made: Instance, **changes: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client for an app built with changed settings on the same instance."""
    settings = dataclasses.replace(made.settings, **changes)
    runtime = dataclasses.replace(made.runtime, settings=settings)
    app = create_app(settings, runtime=runtime)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            yield client


async def _counts(made: Instance) -> tuple[int, int]:
    async with made.runtime.sessions() as session:
        cases = (await session.exec(select(func.count()).select_from(Case))).one()
        entries = (await session.exec(select(func.count()).select_from(Entry))).one()
    return cases, entries


async def _file(client: httpx.AsyncClient) -> str:
    return await reports.file_report(client, REPORT)


def _assert_hardened(answer: httpx.Response, what: str) -> None:
    headers = answer.headers
    csp = headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp, what
    assert "unsafe-inline" not in csp and "script-src" not in csp, what
    assert headers["referrer-policy"] == "no-referrer", what
    assert headers["x-content-type-options"] == "nosniff", what
    assert "camera=()" in headers["permissions-policy"], what
    assert headers["cache-control"] == "no-store", what
    assert "server" not in headers, what
    assert "strict-transport-security" not in headers, what
    assert "onion-location" not in headers, what


async def test_every_kind_of_answer_carries_the_headers_and_is_never_cached(
    sqlite_client: httpx.AsyncClient,
) -> None:
    token_page = await sqlite_client.post("/report", data=REPORT)
    assert token_page.status_code == 201
    answers = {
        "home page": await sqlite_client.get("/"),
        "report form": await sqlite_client.get("/report"),
        "token page": token_page,
        "API form": await sqlite_client.get("/api/v1/form"),
        "API token": await sqlite_client.post("/api/v1/reports", json=REPORT),
        "missing page": await sqlite_client.get("/nowhere"),
        "API error": await sqlite_client.post("/api/v1/reports/status", json={"token": "x"}),
        "wrong method": await sqlite_client.delete("/report"),
    }
    for what, answer in answers.items():
        _assert_hardened(answer, what)
    static = await sqlite_client.get("/static/quietline.css")
    assert static.headers["x-content-type-options"] == "nosniff"
    assert static.headers.get("cache-control") != "no-store"


async def test_hsts_and_onion_location_when_configured(sqlite_seeded: Instance) -> None:
    async with app_client(sqlite_seeded, hsts_max_age=63072000, onion_address=ONION) as client:
        page = await client.get("/report")
        assert page.headers["strict-transport-security"] == "max-age=63072000"
        assert page.headers["onion-location"] == f"http://{ONION}/report"
        # Through the onion service itself the header is pointless and left out.
        via_onion = await client.get("/report", headers={"host": ONION})
        assert "onion-location" not in via_onion.headers


async def test_onion_location_of_a_path_outside_ascii_is_percent_encoded(
    sqlite_seeded: Instance, caplog: pytest.LogCaptureFixture
) -> None:
    """A path that decodes to characters a header cannot carry (``/€``) is answered as any other
    path, its ``Onion-Location`` percent-encoded, and no error reaches a log."""
    async with app_client(sqlite_seeded, onion_address=ONION) as client:
        missing = await client.get("/%E2%82%AC")
        assert missing.status_code == 404
        assert missing.headers["onion-location"] == f"http://{ONION}/%E2%82%AC"
        spaced = await client.get("/report%20x%0d%0aX-Injected:%201")
        assert spaced.status_code == 404
        assert spaced.headers["onion-location"] == (
            f"http://{ONION}/report%20x%0D%0AX-Injected%3A%201"
        )
        assert "x-injected" not in spaced.headers
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]


def test_onion_address_setting_is_checked(tmp_path) -> None:
    environ = {"QUIETLINE_DATA_DIR": str(tmp_path)}
    good = load_settings({**environ, "QUIETLINE_ONION_ADDRESS": f"http://{ONION.upper()}/"})
    assert good.onion_address == ONION
    with pytest.raises(ConfigError, match="v3 onion"):
        load_settings({**environ, "QUIETLINE_ONION_ADDRESS": "example.onion"})
    with pytest.raises(ConfigError, match="RATE_LOOKUPS"):
        load_settings({**environ, "QUIETLINE_RATE_LOOKUPS": "-1"})


CROSS_SITE = [
    ("Sec-Fetch-Site cross-site", {"sec-fetch-site": "cross-site"}),
    ("Sec-Fetch-Site same-site", {"sec-fetch-site": "same-site"}),
    ("Origin of another site", {"origin": "https://attacker.example"}),
    ("Origin of another port", {"origin": "http://127.0.0.1:9999"}),
]


@pytest.mark.parametrize("label,headers", CROSS_SITE, ids=[c[0] for c in CROSS_SITE])
async def test_forms_and_api_sent_from_another_site_are_refused(
    client: httpx.AsyncClient, seeded: Instance, label: str, headers: dict[str, str]
) -> None:
    token = await _file(client)
    before = await _counts(seeded)
    form = await client.post("/report", data=REPORT, headers=headers)
    assert form.status_code == 403
    assert "sent from another site" in form.text and "<form" not in form.text
    message = await client.post(
        "/status/message", data={"token": token, "body": "forged"}, headers=headers
    )
    assert message.status_code == 403
    api = await client.post("/api/v1/reports", json=REPORT, headers=headers)
    assert api.status_code == 403 and "another site" in api.json()["error"]
    _assert_hardened(api, label)
    assert await _counts(seeded) == before


SAME_SITE = [
    ("browser, same origin", {"sec-fetch-site": "same-origin", "origin": "null"}),
    ("browser, typed address", {"sec-fetch-site": "none"}),
    ("Origin matching the host", {"origin": "http://127.0.0.1"}),
    ("no browser headers (curl, old browser)", {}),
]


@pytest.mark.parametrize("label,headers", SAME_SITE, ids=[c[0] for c in SAME_SITE])
async def test_forms_from_this_site_work_without_javascript(
    sqlite_client: httpx.AsyncClient, label: str, headers: dict[str, str]
) -> None:
    filed = await sqlite_client.post("/report", data=REPORT, headers=headers)
    assert filed.status_code == 201, filed.text
    assert 'class="token"' in filed.text


async def test_lookups_over_the_limit_get_429_with_retry_after(seeded: Instance) -> None:
    async with app_client(seeded, rate_lookups=3) as client:
        token = await _file(client)
        answers = []
        for _ in range(8):  # the bucket holds 3; a slow machine may refill one more
            answers.append(
                (await client.post("/api/v1/reports/status", json={"token": token})).status_code
            )
            if answers[-1] == 429:
                break
        assert answers[:3] == [200, 200, 200] and answers[-1] == 429
        before = await _counts(seeded)
        refused = await client.post(
            "/api/v1/reports/messages", json={"token": token, "body": "one more"}
        )
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert "try again" in refused.json()["error"]
        _assert_hardened(refused, "429")
        page = await client.post("/status", data={"token": token})
        assert page.status_code == 429 and "please wait" in page.text
        assert page.headers["content-type"].startswith("text/html")
        assert await _counts(seeded) == before
        # Another route class has its own bucket: reports still go in.
        assert (await client.post("/api/v1/reports", json=REPORT)).status_code == 201


async def test_submissions_have_their_own_limit_and_zero_turns_it_off(
    sqlite_seeded: Instance,
) -> None:
    async with app_client(sqlite_seeded, rate_submissions=2) as client:
        await _file(client)
        await _file(client)
        refused = await client.post("/report", data=REPORT)
        assert refused.status_code == 429 and "Too many reports" in refused.text
    async with app_client(sqlite_seeded, rate_submissions=0, rate_lookups=0) as client:
        for _ in range(5):
            await _file(client)


async def test_the_limit_state_holds_no_address_or_token(sqlite_seeded: Instance) -> None:
    """The limits are a name and a time each, and nothing else."""
    settings = dataclasses.replace(sqlite_seeded.settings, rate_lookups=5)
    runtime = dataclasses.replace(sqlite_seeded.runtime, settings=settings)
    app = create_app(settings, runtime=runtime)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("198.51.100.23", 4711))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            token = await _file(client)
            await client.post("/api/v1/reports/status", json={"token": token})
    state = repr(vars(runtime.limits))
    assert "198.51.100.23" not in state and token not in state
    assert set(runtime.limits.tat) == {"submissions", "lookups"}  # type: ignore[attr-defined]


OFFICER = "officer1@example.org"


def _cookie_attributes(answer: httpx.Response) -> tuple[str, set[str]]:
    raw = answer.headers["set-cookie"]
    name = raw.split("=", 1)[0]
    attributes = {part.strip().lower() for part in raw.split(";")[1:]}
    return name, attributes


async def test_session_cookie_is_host_only_secure_httponly_and_strict(seeded: Instance) -> None:
    """Outside local development the staff cookie cannot leak to scripts, other sites,
    subdomains or plain HTTP."""
    async with app_client(seeded, development=False) as client:
        answer = await login(seeded, client, OFFICER)
        assert answer.status_code == 200, answer.text
        name, attributes = _cookie_attributes(answer)
    assert name == "__Host-quietline_staff"
    assert {"secure", "httponly", "samesite=strict", "path=/"} <= attributes
    assert not any(attribute.startswith("domain") for attribute in attributes)
    _assert_hardened(answer, "sign-in")


async def test_development_cookie_drops_only_secure_and_the_prefix(
    sqlite_seeded: Instance,
) -> None:
    async with app_client(sqlite_seeded, development=True) as client:
        answer = await login(sqlite_seeded, client, OFFICER)
        name, attributes = _cookie_attributes(answer)
    assert name == "quietline_staff"
    assert {"httponly", "samesite=strict", "path=/"} <= attributes and "secure" not in attributes


async def test_sign_ins_over_the_global_limit_get_429_with_retry_after(
    sqlite_seeded: Instance,
) -> None:
    async with app_client(sqlite_seeded, rate_signins=2) as client:
        for _ in range(2):
            wrong = await login(sqlite_seeded, client, OFFICER, password="wrong but long enough")
            assert wrong.status_code == 401
        refused = await login(sqlite_seeded, client, OFFICER)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert "sign-in attempts" in refused.json()["error"]
        page = await client.post(
            "/staff/login", data={"email": OFFICER, "password": "x", "totp": "000000"}
        )
        assert page.status_code == 429 and "sign-in attempts" in page.text


async def test_account_lockout_says_when_to_retry(sqlite_seeded: Instance) -> None:
    async with app_client(sqlite_seeded, login_max_failures=1) as client:
        await login(sqlite_seeded, client, OFFICER, password="wrong but long enough")
        locked = await login(sqlite_seeded, client, OFFICER)
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) == 15 * 60


async def test_a_staff_form_posted_from_another_site_is_refused_before_the_session(
    sqlite_seeded: Instance,
) -> None:
    async with app_client(sqlite_seeded) as client:
        officer = await sign_in(sqlite_seeded, client, OFFICER)
        forged = await client.post(
            "/api/v1/staff/logout", headers={**officer.headers, "Sec-Fetch-Site": "cross-site"}
        )
        assert forged.status_code == 403
        # The session is still open: the forged request did nothing.
        assert (await officer.get("/api/v1/staff/me")).status_code == 200
