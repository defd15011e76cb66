"""docs/architecture.md, promises 1-2: after real use, nothing written holds report text, the token,
the client's address or its user agent."""

from __future__ import annotations

import secrets
import shutil
import subprocess

import httpx
import pytest

from tests.support.instance import quietline_environ
from tests.support.live import LiveServer, bytes_written_under, free_port

USER_AGENT = "Mozilla/5.0 (QuietlineProbe-7f3a9c; rv:128.0) Gecko/20100101 Firefox/128.0"
CLIENT_ADDRESS = b"127.0.0.1"


def _scenario(server: LiveServer) -> tuple[str, str, str]:
    marker = f"MARKER-{secrets.token_hex(8)}"
    reply_marker = f"FOLLOWUP-{secrets.token_hex(8)}"
    headers = {"User-Agent": USER_AGENT}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        filed = client.post(
            "/api/v1/reports",
            json={
                "category": "social-media",
                "body": f"The account was misused. {marker}",
                # Answers are encrypted like the text (intake/casework/questionnaires.py).
                "answers": {"account": f"@Account{marker}", "still_going": "yes"},
            },
        )
        assert filed.status_code == 201
        token = filed.json()["token"]
        sent = client.post(
            "/api/v1/reports/messages", json={"token": token, "body": f"And also {reply_marker}"}
        )
        assert sent.status_code == 201
        # The no-JavaScript form path too.
        page = client.post(
            "/report",
            data={"category": "conduct", "body": f"Form {marker}", "q-department": f"D{marker}"},
        )
        assert page.status_code == 201
        status = client.post("/api/v1/reports/status", json={"token": token})
        assert reply_marker in status.text
    return marker, reply_marker, token


def _assert_absent(blob: bytes, marker: str, reply_marker: str, token: str) -> None:
    canonical = token.replace("-", "")
    for needle in (
        marker,
        reply_marker,
        token,
        canonical,
        canonical.lower(),
        USER_AGENT,
        "QuietlineProbe",
    ):
        assert needle.encode() not in blob, needle
        assert needle.encode("utf-16-le") not in blob, needle


def test_sqlite_files_data_directory_and_server_output_hold_nothing_readable(
    tmp_path: pytest.TempPathFactory,
) -> None:
    server = LiveServer(
        data_dir=tmp_path / "data", port=free_port(), environ=quietline_environ(tmp_path / "data")
    )
    assert server.command("demo").returncode == 0
    server.start()
    try:
        marker, reply_marker, token = _scenario(server)
    finally:
        server.stop()
    written = bytes_written_under(server.data_dir)
    assert (server.data_dir / "quietline.db").exists()
    _assert_absent(written, marker, reply_marker, token)
    assert CLIENT_ADDRESS not in written
    output = server.output()
    _assert_absent(output, marker, reply_marker, token)
    assert CLIENT_ADDRESS not in output.replace(f"http://127.0.0.1:{server.port}".encode(), b"")


def test_postgresql_dump_holds_nothing_readable(tmp_path, pg_database: str) -> None:
    if shutil.which("pg_dump") is None:
        pytest.fail("pg_dump is needed to read back what PostgreSQL stored")
    environ = quietline_environ(tmp_path / "data", pg_database)
    server = LiveServer(data_dir=tmp_path / "data", port=free_port(), environ=environ)
    assert server.command("demo").returncode == 0
    server.start()
    try:
        marker, reply_marker, token = _scenario(server)
    finally:
        server.stop()
    dsn = pg_database.replace("postgresql+asyncpg://", "postgresql://", 1)
    dump = subprocess.run(["pg_dump", "--data-only", dsn], capture_output=True, check=True).stdout
    assert b"COPY public.entry" in dump  # the dump holds the tables
    _assert_absent(dump, marker, reply_marker, token)
    _assert_absent(
        server.output() + bytes_written_under(server.data_dir), marker, reply_marker, token
    )
