"""The limits hold across two ``quietline serve`` processes sharing one PostgreSQL database.

Before, each process kept its own counts in memory, so with two processes every limit
allowed twice its figure: look-ups, sign-ins and the global count of failed sign-ins (that
one is shown shared between two runtimes of one database in
tests/integration/test_shared_limits.py).
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.instance import quietline_environ
from tests.support.live import LiveServer, free_port

LOOKUPS = 6
SIGNINS = 4
OFFICER = "officer@example.org"
PASSWORD = "correct horse battery staple"


def _secret() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


@pytest.fixture
def two_servers(tmp_path: Path, pg_database: str) -> Iterator[tuple[LiveServer, LiveServer]]:
    shared = {
        "QUIETLINE_SECRET_KEY": _secret(),
        "QUIETLINE_TOKEN_PEPPER": _secret(),
        "QUIETLINE_RATE_LOOKUPS": str(LOOKUPS),
        "QUIETLINE_RATE_SIGNINS": str(SIGNINS),
        "QUIETLINE_MAIL_WORKER": "false",
    }
    servers = []
    for name in ("a", "b"):
        data = tmp_path / name
        environ = {**quietline_environ(data, pg_database), **shared}
        servers.append(LiveServer(data_dir=data, port=free_port(), environ=environ))
    first, second = servers
    made = first.command("init")
    assert made.returncode == 0, made.stderr
    first.add_staff(OFFICER, PASSWORD)
    try:
        first.start()
        second.start()
        yield first, second
    finally:
        for server in servers:
            server.stop()


def test_rate_limits_hold_across_two_processes(
    two_servers: tuple[LiveServer, LiveServer],
) -> None:
    a, b = two_servers
    lookup = {"token": "0" * 24 + "0"}
    answers = [
        httpx.post(f"{(a, b)[n % 2].url}/api/v1/reports/status", json=lookup, timeout=30)
        for n in range(LOOKUPS + 2)
    ]
    statuses = [answer.status_code for answer in answers]
    # Half of the look-ups went to each process: together they allowed the figure, not twice it.
    assert 429 not in statuses[:LOOKUPS], statuses
    assert statuses[LOOKUPS:] == [429, 429], statuses
    assert int(answers[-1].headers["retry-after"]) >= 1

    wrong = {"email": OFFICER, "password": "not the password", "totp": "000000"}
    tries = [
        httpx.post(f"{(a, b)[n % 2].url}/api/v1/staff/login", json=wrong, timeout=30)
        for n in range(SIGNINS + 1)
    ]
    # The sign-in limit is shared the same way (each wrong try answered 401 until it runs out).
    assert [answer.status_code for answer in tries] == [401] * SIGNINS + [429]
