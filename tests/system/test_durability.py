"""docs/architecture.md, promise 4: a report whose token was shown survives a kill -9 of the
server, with either SQLite driver (QUIETLINE_SQLITE_DRIVER)."""

from __future__ import annotations

import httpx

from tests.support.live import LiveServer


def test_report_survives_kill_9_right_after_201(
    live_server: LiveServer, sqlite_driver: str
) -> None:
    live_server.environ["QUIETLINE_SQLITE_DRIVER"] = sqlite_driver
    assert live_server.command("demo").returncode == 0
    live_server.start()
    tokens = []
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        for index in range(5):
            answer = client.post(
                "/api/v1/reports", json={"category": "safety", "body": f"Report number {index}"}
            )
            assert answer.status_code == 201
            tokens.append(answer.json()["token"])
    live_server.kill()

    live_server.start()
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        for token in tokens:
            status = client.post("/api/v1/reports/status", json={"token": token})
            assert status.status_code == 200, status.text
            assert status.json()["stage"] == "received"
