"""docs/architecture.md, promise 5: oversized, malformed or hostile input: clear 4xx, no change."""

from __future__ import annotations

import socket

import httpx
import pytest
from sqlmodel import func, select

from intake.storage.models import Case, Entry
from tests.support import reports
from tests.support.instance import Instance
from tests.support.live import LiveServer
from tests.support.staffing import sign_in


async def _counts(made: Instance) -> tuple[int, int]:
    async with made.runtime.sessions() as session:
        cases = (await session.exec(select(func.count()).select_from(Case))).one()
        entries = (await session.exec(select(func.count()).select_from(Entry))).one()
    return cases, entries


JSON = {"content-type": "application/json"}
HOSTILE_API = [
    ("body over the limit", {"category": "financial", "body": "x" * 20_001}, 422, "too long"),
    ("empty body", {"category": "financial", "body": "   "}, 422, "empty"),
    ("unknown category", {"category": "nope", "body": "text"}, 422, "categories"),
    ("wrong type for body", {"category": "financial", "body": 12}, 422, "body"),
    (
        "wrong type for flag",
        {"category": "financial", "body": "t", "involves_office": "yes"},
        422,
        "involves_office",
    ),
    ("missing field", {"body": "text"}, 422, "category"),
    ("unknown field", {"category": "financial", "body": "t", "name": "me"}, 422, "name"),
    ("not an object", ["category"], 422, "object"),
    ("NUL character", {"category": "financial", "body": "a\x00b"}, 422, "character"),
]


@pytest.mark.parametrize("label,payload,status,words", HOSTILE_API, ids=[c[0] for c in HOSTILE_API])
async def test_hostile_json_is_refused_clearly(
    client: httpx.AsyncClient, seeded: Instance, label, payload, status, words
) -> None:
    before = await _counts(seeded)
    answer = await client.post("/api/v1/reports", json=payload)
    assert answer.status_code == status, answer.text
    assert words in answer.json()["error"]
    assert await _counts(seeded) == before


RAW_BODIES = [
    ("invalid JSON", b'{"category": "financial", "body": ', JSON, 400, "not valid JSON"),
    ("invalid UTF-8", b'{"category": "financial", "body": "\xff\xfe"}', JSON, 400, "UTF-8"),
    ("not JSON at all", b"category=financial&body=x", {"content-type": "text/plain"}, 400, "JSON"),
    ("request over the byte limit", b'{"body": "' + b"x" * 300_000 + b'"}', JSON, 413, "too large"),
]


@pytest.mark.parametrize(
    "label,raw,headers,status,words", RAW_BODIES, ids=[c[0] for c in RAW_BODIES]
)
async def test_malformed_bodies_are_refused_clearly(
    sqlite_client: httpx.AsyncClient, sqlite_seeded: Instance, label, raw, headers, status, words
) -> None:
    before = await _counts(sqlite_seeded)
    answer = await sqlite_client.post("/api/v1/reports", content=raw, headers=headers)
    assert answer.status_code == status, answer.text
    assert words in answer.json()["error"]
    assert await _counts(sqlite_seeded) == before


async def test_ten_thousand_form_fields_are_refused(
    sqlite_client: httpx.AsyncClient, sqlite_seeded: Instance
) -> None:
    before = await _counts(sqlite_seeded)
    fields = "&".join(f"f{index}=x" for index in range(10_000))
    answer = await sqlite_client.post(
        "/report",
        content=f"category=financial&body=hello&{fields}",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert 400 <= answer.status_code < 500
    assert "Too many fields" in answer.text
    assert await _counts(sqlite_seeded) == before


async def test_invalid_utf8_in_a_form_is_refused(
    sqlite_client: httpx.AsyncClient, sqlite_seeded: Instance
) -> None:
    before = await _counts(sqlite_seeded)
    answer = await sqlite_client.post(
        "/report",
        content=b"category=financial&body=%ff%fe%fd",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 422
    assert "could not be read" in answer.text
    assert await _counts(sqlite_seeded) == before


async def test_form_errors_keep_what_the_reporter_wrote(sqlite_client: httpx.AsyncClient) -> None:
    answer = await sqlite_client.post("/report", data={"category": "nope", "body": "my words"})
    assert answer.status_code == 422
    assert "Please choose one of the listed categories." in answer.text
    assert "my words" in answer.text


async def test_unknown_page_and_wrong_method(sqlite_client: httpx.AsyncClient) -> None:
    missing = await sqlite_client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json() == {"error": "There is no such page."}
    wrong = await sqlite_client.get("/api/v1/reports")
    assert wrong.status_code == 405


def test_one_megabyte_header_is_refused_by_the_real_server(live_server: LiveServer) -> None:
    live_server.command("demo")
    live_server.start()
    request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * (1024 * 1024) + b"\r\n\r\n"
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=10) as connection:
        try:
            connection.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass
        reply = b""
        try:
            while chunk := connection.recv(4096):
                reply += chunk
        except ConnectionResetError:
            pass
    status_line = reply.split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 4"), reply[:200]
    # The server is still healthy afterwards.
    assert httpx.get(live_server.url + "/api/v1/form", timeout=10).status_code == 200


def _nested(depth: int) -> str:
    """A JSON object whose ``body`` nests ``depth`` lists inside the object itself."""
    return '{"category": "financial", "body": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


REPORTER_JSON_ENDPOINTS = [
    "/api/v1/reports",
    "/api/v1/reports/status",
    "/api/v1/reports/messages",
    "/api/v1/staff/login",
]
STAFF_JSON_ENDPOINTS = [
    "/api/v1/staff/password",
    "/api/v1/staff/notifications",
    "/api/v1/cases",
    "/api/v1/cases/{ref}/stage",
    "/api/v1/cases/{ref}/messages",
    "/api/v1/cases/{ref}/notes",
    "/api/v1/cases/{ref}/assign",
    "/api/v1/cases/{ref}/grants",
    "/api/v1/cases/{ref}/legal-hold",
]


async def test_deeply_nested_json_is_refused_clearly_on_every_json_endpoint(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    """JSON nested a thousand levels deep (or just past the limit of 64) is a 400 that says so,
    never a 500, on the reporter API and the staff API alike, and changes nothing."""
    await reports.file_report(client)
    officer = await sign_in(seeded, client, "officer1@example.org")
    ref = (await officer.get("/api/v1/cases")).json()["cases"][0]["ref"]
    before = await _counts(seeded)
    for depth in (1000, 65):
        body = _nested(depth)
        for path in REPORTER_JSON_ENDPOINTS:
            answer = await client.post(path, content=body, headers=JSON)
            assert answer.status_code == 400, (path, depth, answer.text)
            assert "more than 64 levels deep" in answer.json()["error"], path
        for path in STAFF_JSON_ENDPOINTS:
            answer = await client.post(
                path.format(ref=ref), content=body, headers={**JSON, **officer.headers}
            )
            assert answer.status_code == 400, (path, depth, answer.text)
            assert "more than 64 levels deep" in answer.json()["error"], path
        multipart = await client.post(
            "/api/v1/reports",
            files={"report": (None, body, "application/json"), "files": ("a.txt", b"x")},
        )
        assert multipart.status_code == 400, multipart.text
        assert "“report” part nests" in multipart.json()["error"]
    assert await _counts(seeded) == before
    # At the limit the document is parsed, and refused for what it says.
    at_limit = await client.post("/api/v1/reports", content=_nested(64), headers=JSON)
    assert at_limit.status_code == 422, at_limit.text
