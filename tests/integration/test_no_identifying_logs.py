"""docs/architecture.md, promise 2: nothing the process writes identifies anyone, whatever is sent.

A real ``quietline serve`` runs a full scenario — reports by form and API, status, messages,
typos, unknown tokens, oversized and forged requests, rate-limit refusals, and a staff member
signing in, reading, replying and signing out — with every
request carrying a recognisable user agent, cookie, referrer and forwarded address. Then
everything it printed and everything under its data directory is searched for them.
The server trusts a proxy here (QUIETLINE_TRUSTED_PROXIES), the one setting under which
uvicorn reads forwarded addresses: they must still go nowhere.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import pyotp

from tests.support.instance import quietline_environ
from tests.support.live import LiveServer, bytes_written_under, free_port
from tests.support.staffing import COOKIE

USER_AGENT = "Mozilla/5.0 (IdentifyingProbe-51c2; rv:128.0) Gecko/20100101 Firefox/128.0"
FORWARDED_ADDRESS = "203.0.113.77"
COOKIE_VALUE = "probe-cookie-6d1e0b"
REFERER = "https://intranet.city.example/hr/people/jdoe"


def _identifying_headers() -> dict[str, str]:
    return {
        "User-Agent": USER_AGENT,
        "X-Forwarded-For": FORWARDED_ADDRESS,
        "X-Real-IP": FORWARDED_ADDRESS,
        "Forwarded": f"for={FORWARDED_ADDRESS};proto=https",
        "X-Forwarded-Proto": "https",
        "Cookie": f"tracker={COOKIE_VALUE}",
        "Referer": REFERER,
    }


def _reporter_scenario(client: httpx.Client) -> list[str]:
    """Everything a reporter (or someone hostile) can do; returns what must never be written."""
    marker = f"REPORT-{secrets.token_hex(6)}"
    followup = f"FOLLOWUP-{secrets.token_hex(6)}"
    filed = client.post("/api/v1/reports", json={"category": "conduct", "body": marker})
    assert filed.status_code == 201
    token = filed.json()["token"]
    page = client.post("/report", data={"category": "safety", "body": f"form {marker}"})
    assert page.status_code == 201
    assert client.post("/status", data={"token": token}).status_code == 200
    sent = client.post("/status/message", data={"token": token, "body": followup})
    assert sent.status_code == 200
    assert (
        client.post("/api/v1/reports/messages", json={"token": token, "body": followup}).status_code
        == 201
    )
    assert followup in client.post("/api/v1/reports/status", json={"token": token}).text
    # Hostile and mistaken requests: each is refused, none may be logged with what it carried.
    mistyped = token[:-1] + ("0" if token[-1] != "0" else "1")
    assert client.post("/api/v1/reports/status", json={"token": mistyped}).status_code in (404, 422)
    unknown = "00000-00000-00000-00000-0000" + "0"
    assert client.post("/status", data={"token": unknown}).status_code in (404, 422)
    assert (
        client.post(
            "/api/v1/reports",
            content=b"{not json " + marker.encode(),
            headers={"content-type": "application/json"},
        ).status_code
        == 400
    )
    assert (
        client.post("/api/v1/reports", json={"category": "x", "body": "y" * 300_000}).status_code
        == 413
    )
    forged = client.post(
        "/report",
        data={"category": "safety", "body": marker},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert forged.status_code == 403
    assert client.get(f"/no-such-page-{marker}").status_code == 404
    limited = [
        client.post("/api/v1/reports/status", json={"token": token}).status_code for _ in range(30)
    ]
    assert 429 in limited
    return [
        marker,
        followup,
        token,
        token.replace("-", ""),
        token.replace("-", "").lower(),
        mistyped,
    ]


STAFF_EMAIL = "logs.officer@example.org"
STAFF_PASSWORD = "PASSPHRASE-never-written-8c1f"


def _staff_scenario(client: httpx.Client, totp_secret: str) -> tuple[list[str], list[str]]:
    """Sign in, read the queue and a case, reply, sign out. Returns (never written anywhere,
    never in the output)."""
    code = pyotp.TOTP(totp_secret).now()
    signed_in = client.post(
        "/api/v1/staff/login",
        json={"email": STAFF_EMAIL, "password": STAFF_PASSWORD, "totp": code},
    )
    assert signed_in.status_code == 200, signed_in.text
    cookie = signed_in.cookies[COOKIE]
    csrf = signed_in.json()["csrf"]
    client.cookies.clear()
    headers = {"Cookie": f"{COOKIE}={cookie}", "X-CSRF-Token": csrf}
    refs = [row["ref"] for row in client.get("/api/v1/cases", headers=headers).json()["cases"]]
    assert refs
    reply = f"REPLY-{secrets.token_hex(6)}"
    for ref in refs:
        assert client.get(f"/api/v1/cases/{ref}", headers=headers).status_code == 200
    sent = client.post(f"/api/v1/cases/{refs[0]}/messages", json={"body": reply}, headers=headers)
    assert sent.status_code == 201
    wrong = client.post(
        "/api/v1/staff/login",
        json={"email": STAFF_EMAIL, "password": STAFF_PASSWORD + "x", "totp": code},
    )
    assert wrong.status_code in (401, 429)
    assert client.post("/api/v1/staff/logout", headers=headers).status_code == 200
    # The session row keeps its CSRF token (it opens nothing); the output must not.
    return [STAFF_PASSWORD, reply, cookie, code], [csrf]


def test_nothing_written_identifies_a_client(tmp_path: Path) -> None:
    environ = {
        **quietline_environ(tmp_path / "data"),
        "QUIETLINE_TRUSTED_PROXIES": "127.0.0.1",
        "QUIETLINE_RATE_LOOKUPS": "20",
    }
    server = LiveServer(data_dir=tmp_path / "data", port=free_port(), environ=environ)
    assert server.demo().returncode == 0
    totp_secret = server.add_staff(STAFF_EMAIL, STAFF_PASSWORD)
    server.start()
    try:
        with httpx.Client(
            base_url=server.url, headers=_identifying_headers(), timeout=30
        ) as client:
            secrets_written = _reporter_scenario(client)
            staff_secrets, output_only = _staff_scenario(client, totp_secret)
    finally:
        server.stop()

    output = server.output()
    written = bytes_written_under(server.data_dir)
    identifying = [
        USER_AGENT,
        "IdentifyingProbe",
        FORWARDED_ADDRESS,
        COOKIE_VALUE,
        REFERER,
        "intranet.city.example",
        *secrets_written,
        *staff_secrets,
    ]
    checks = ((output, "server output", output_only), (written, "data directory", []))
    for blob, where, extra in checks:
        for needle in identifying + extra:
            assert needle.encode() not in blob, f"{needle!r} in the {where}"
            assert needle.encode("utf-16-le") not in blob, f"{needle!r} in the {where}"
    # The only address the process ever prints is the one it listens on.
    listening = f"http://127.0.0.1:{server.port}".encode()
    assert b"127.0.0.1" not in output.replace(listening, b"")
    assert b"Traceback" not in output
