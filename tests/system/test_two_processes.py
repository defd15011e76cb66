"""Two ``quietline serve`` processes on one PostgreSQL database, as deploy/compose.yaml runs them.

Each has its own data directory; they share the database and the two server secrets
through the environment (QUIETLINE_SECRET_KEY, QUIETLINE_TOKEN_PEPPER). Reporters are
driven across both at once: a report filed on one opens on the other, messages sent
concurrently to one case through both all arrive, once each, in one order. A staff
session opened on one process reads and answers cases on the other, and ends on both.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg
import httpx
import pyotp
import pytest

from tests.support import reports
from tests.support.instance import quietline_environ
from tests.support.live import LiveServer, free_port
from tests.support.staffing import COOKIE

REPORTS = 16
MESSAGES_PER_CASE = 3
SAME_CASE_MESSAGES = 16


def _secret() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


@pytest.fixture
def two_servers(tmp_path: Path, pg_database: str) -> Iterator[tuple[LiveServer, LiveServer]]:
    shared = {"QUIETLINE_SECRET_KEY": _secret(), "QUIETLINE_TOKEN_PEPPER": _secret()}
    servers = []
    for name in ("a", "b"):
        data = tmp_path / name
        environ = {**quietline_environ(data, pg_database), **shared}
        servers.append(LiveServer(data_dir=data, port=free_port(), environ=environ))
    first, second = servers
    seeded = first.demo()
    assert seeded.returncode == 0, seeded.stderr
    second.pin_root_of(first)
    try:
        first.start()
        second.start()
        yield first, second
    finally:
        for server in servers:
            server.stop()


def _file(url: str, index: int) -> str:
    return reports.file_report_to(url, category="financial", body=f"report {index}")


def _message(url: str, token: str, body: str) -> None:
    answer = httpx.post(
        f"{url}/api/v1/reports/messages", json={"token": token, "body": body}, timeout=60
    )
    assert answer.status_code == 201, answer.text


def _messages(url: str, token: str) -> list[str]:
    answer = httpx.post(f"{url}/api/v1/reports/status", json={"token": token}, timeout=60)
    assert answer.status_code == 200, answer.text
    return [item["body"] for item in answer.json()["messages"]]


async def _database_counts(url: str) -> tuple[int, int, int]:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        cases = await connection.fetchval('SELECT count(*) FROM "case"')
        entries = await connection.fetchval("SELECT count(*) FROM entry")
        # An entry's place is encrypted; the case's counter hands out places one at a time,
        # under the case row's lock. Each case's counter must have moved exactly once per entry:
        # two entries given the same place would leave it short.
        miscounted = await connection.fetchval(
            'SELECT count(*) FROM "case" c WHERE c.next_seq - 1 <> '
            "(SELECT count(*) FROM entry e WHERE e.case_id = c.id)"
        )
    finally:
        await connection.close()
    return cases, entries, miscounted


def test_reporters_across_two_processes_lose_and_duplicate_nothing(
    two_servers: tuple[LiveServer, LiveServer], pg_database: str
) -> None:
    a, b = two_servers
    urls = [a.url, b.url]
    with ThreadPoolExecutor(max_workers=8) as pool:
        # Reports filed on both processes at once.
        tokens = list(pool.map(lambda i: _file(urls[i % 2], i), range(REPORTS)))
        assert len(set(tokens)) == REPORTS

        # Each case gets messages through both processes, all cases at once.
        def converse(item: tuple[int, str]) -> None:
            index, token = item
            for number in range(MESSAGES_PER_CASE):
                _message(urls[(index + number) % 2], token, f"case {index} message {number}")

        list(pool.map(converse, enumerate(tokens)))

        # One case, many messages at the same moment through both processes.
        crowded = tokens[0]
        list(
            pool.map(
                lambda n: _message(urls[n % 2], crowded, f"crowd {n}"), range(SAME_CASE_MESSAGES)
            )
        )

    for index, token in enumerate(tokens):
        seen_a, seen_b = _messages(a.url, token), _messages(b.url, token)
        assert seen_a == seen_b  # both processes tell the same story, in the same order
        expected = [f"case {index} message {n}" for n in range(MESSAGES_PER_CASE)]
        if token == crowded:
            assert seen_a[:MESSAGES_PER_CASE] == expected
            assert sorted(seen_a[MESSAGES_PER_CASE:]) == sorted(
                f"crowd {n}" for n in range(SAME_CASE_MESSAGES)
            )
        else:
            assert seen_a == expected

    cases, entries, miscounted = asyncio.run(_database_counts(pg_database))
    assert cases == REPORTS
    assert entries == REPORTS * (1 + MESSAGES_PER_CASE) + SAME_CASE_MESSAGES
    assert miscounted == 0
    for server in (a, b):
        assert b"Traceback" not in server.output()


def test_a_staff_session_made_on_one_process_works_on_the_other(
    two_servers: tuple[LiveServer, LiveServer],
) -> None:
    a, b = two_servers
    email, password = "two.processes@example.org", "a long and private passphrase"
    totp_secret = a.add_staff(email, password)
    token = _file(a.url, 1)

    signed_in = httpx.post(
        f"{a.url}/api/v1/staff/login",
        json={"email": email, "password": password, "totp": pyotp.TOTP(totp_secret).now()},
        timeout=60,
    )
    assert signed_in.status_code == 200, signed_in.text
    headers = {
        "Cookie": f"{COOKIE}={signed_in.cookies[COOKIE]}",
        "X-CSRF-Token": signed_in.json()["csrf"],
    }
    with httpx.Client(base_url=b.url, headers=headers, timeout=60) as on_b:
        queue = on_b.get("/api/v1/cases")
        assert queue.status_code == 200, queue.text
        (row,) = queue.json()["cases"]
        case = on_b.get(f"/api/v1/cases/{row['ref']}").json()
        assert case["report"]["body"] == "report 1"  # decrypted on B with A's session
        reply = on_b.post(f"/api/v1/cases/{row['ref']}/messages", json={"body": "Received."})
        assert reply.status_code == 201, reply.text
    assert _messages(a.url, token) == ["Received."]

    # Signing out on B ends the session on A too.
    with httpx.Client(headers=headers, timeout=60) as http:
        assert http.post(f"{b.url}/api/v1/staff/logout").status_code == 200
        assert http.get(f"{a.url}/api/v1/cases").status_code == 401
