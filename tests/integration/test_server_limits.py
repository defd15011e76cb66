"""Limits enforced by the real server process: slow bodies, the banner, the request head."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx

from intake.cli.instance import server_options
from intake.config import load_settings
from tests.support.instance import quietline_environ
from tests.support.live import LiveServer, free_port


def _read_reply(connection: socket.socket) -> bytes:
    reply = b""
    try:
        while chunk := connection.recv(4096):
            reply += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return reply


def test_a_body_that_stops_arriving_is_given_up_with_408(tmp_path: Path) -> None:
    environ = {**quietline_environ(tmp_path / "data"), "QUIETLINE_BODY_IDLE_TIMEOUT": "1"}
    server = LiveServer(data_dir=tmp_path / "data", port=free_port(), environ=environ)
    assert server.command("demo").returncode == 0
    server.start()
    try:
        head = (
            b"POST /api/v1/reports HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 200\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
            connection.sendall(head + b'{"category": "financial", "bo')
            reply = _read_reply(connection)
        status_line, _, rest = reply.partition(b"\r\n")
        assert status_line.startswith(b"HTTP/1.1 408"), reply[:300]
        assert b"too slowly" in rest
        # Nothing was filed, and the server still answers.
        with httpx.Client(base_url=server.url, timeout=10) as client:
            assert client.get("/api/v1/form").status_code == 200
    finally:
        server.stop()


def test_no_server_banner_and_headers_on_the_wire(live_server: LiveServer) -> None:
    live_server.command("demo")
    live_server.start()
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=10) as connection:
        connection.sendall(b"GET /report HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        reply = _read_reply(connection)
    head = reply.split(b"\r\n\r\n", 1)[0].lower()
    assert head.startswith(b"http/1.1 200")
    assert b"\r\nserver:" not in head
    assert b"uvicorn" not in reply.lower()
    assert b"content-security-policy: default-src 'none'" in head
    assert b"cache-control: no-store" in head


def test_proxy_headers_are_ignored_unless_a_proxy_is_trusted(tmp_path: Path) -> None:
    plain = server_options(load_settings({"QUIETLINE_DATA_DIR": str(tmp_path)}))
    assert plain["access_log"] is False and plain["proxy_headers"] is False
    assert plain["server_header"] is False
    assert plain["http"] == "h11"  # the request-head limit is h11's
    trusted = server_options(
        load_settings(
            {"QUIETLINE_DATA_DIR": str(tmp_path), "QUIETLINE_TRUSTED_PROXIES": "10.9.0.2"}
        )
    )
    assert trusted["proxy_headers"] is True and trusted["forwarded_allow_ips"] == "10.9.0.2"
    assert trusted["access_log"] is False
