"""Promise 2: nothing the process writes identifies anyone, whatever a client sends.

A real ``quietline serve`` runs a full scenario — reports by form and API, status, messages,
typos, unknown tokens, oversized and forged requests, rate-limit refusals — with every
request carrying a recognisable user agent, cookie, referrer and forwarded address. Then
everything it printed and everything under its data directory is searched for them.
The server trusts a proxy here (QUIETLINE_TRUSTED_PROXIES), the one setting under which
uvicorn reads forwarded addresses: they must still go nowhere.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx

from tests.conftest import quietline_environ
from tests.support import LiveServer, bytes_written_under, free_port

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


def test_nothing_written_identifies_a_client(tmp_path: Path) -> None:
    environ = {
        **quietline_environ(tmp_path / "data"),
        "QUIETLINE_TRUSTED_PROXIES": "127.0.0.1",
        "QUIETLINE_RATE_LOOKUPS": "20",
    }
    server = LiveServer(data_dir=tmp_path / "data", port=free_port(), environ=environ)
    assert server.command("demo").returncode == 0
    server.start()
    try:
        with httpx.Client(
            base_url=server.url, headers=_identifying_headers(), timeout=30
        ) as client:
            secrets_written = _reporter_scenario(client)
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
    ]
    for blob, where in ((output, "server output"), (written, "data directory")):
        for needle in identifying:
            assert needle.encode() not in blob, f"{needle!r} in the {where}"
            assert needle.encode("utf-16-le") not in blob, f"{needle!r} in the {where}"
    # The only address the process ever prints is the one it listens on.
    listening = f"http://127.0.0.1:{server.port}".encode()
    assert b"127.0.0.1" not in output.replace(listening, b"")
    assert b"Traceback" not in output
