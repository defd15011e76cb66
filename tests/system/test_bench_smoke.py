"""Keeps bench/ working: its load driver against a real server, tiny and bounded.

No timing is asserted here: figures come from ``make bench``.
"""

from __future__ import annotations

import httpx
import pytest

from bench.driver import LoadResult, Request, drive
from bench.report import Phase, Row, budget_table, table
from bench.run import REPORT_CHARS, answered_report_request, report_request, status_request
from tests.support.live import LiveServer


async def test_driver_files_reports_and_every_token_opens_its_case(
    live_server: LiveServer,
) -> None:
    assert live_server.command("demo").returncode == 0
    live_server.start()
    tokens: list[str] = []

    submitted = await drive(
        live_server.url,
        report_request,
        concurrency=4,
        max_requests=12,
        max_seconds=120,
        expect_status=201,
        on_answer=lambda _index, answer: tokens.append(answer.json()["token"]),
    )
    looked_up = await drive(
        live_server.url,
        status_request(tokens),
        concurrency=2,
        max_requests=len(tokens),
        max_seconds=120,
    )

    # The variant with a ten-question questionnaire answered is accepted as it is.
    answered = await drive(
        live_server.url,
        answered_report_request,
        concurrency=2,
        max_requests=4,
        max_seconds=120,
        expect_status=201,
    )
    assert answered.ok == 4 and answered.error_count == 0
    assert submitted.ok == 12 and submitted.error_count == 0
    assert len(set(tokens)) == 12
    assert looked_up.ok == 12 and looked_up.error_count == 0
    row = Row("submit c=4", "quietline", phases=[Phase(submitted, 0.1, 50.0)])
    assert "submit c=4" in table([row])


async def test_driver_counts_refusals_as_errors(live_server: LiveServer) -> None:
    live_server.start()  # no staff yet: every report is refused (503, nothing saved)

    result = await drive(
        live_server.url,
        report_request,
        concurrency=2,
        max_requests=4,
        max_seconds=60,
        expect_status=201,
    )

    assert result.ok == 0
    assert sum(result.errors.values()) == 4
    assert set(result.errors) == {"HTTP 503"}


def test_cpu_budget_splits_the_machine_between_server_driver_and_the_rest() -> None:
    # Ten requests in one second on two cores: the server used 20 ms of CPU, the driver 10 ms,
    # the machine 40 ms in all (the other 10 ms were, say, PostgreSQL's).
    load = LoadResult(concurrency=1, latencies=[0.01] * 10, elapsed=1.0)
    phase = Phase(load, 0.02, 50.0, driver_cpu=0.01, machine_cpu=0.04, cores=2)
    row = Row("submit c=1", "quietline", phases=[phase])

    budget = budget_table([row]).splitlines()

    assert budget[0].split() == [
        "scenario",
        "server",
        "server",
        "ms",
        "driver",
        "ms",
        "rest",
        "ms",
        "machine",
        "ms",
        "machine",
        "busy",
    ]
    assert budget[2].split() == ["submit", "c=1", "quietline", "2.00", "1.00", "1.00", "4.00", "2%"]
    assert row.as_dict()["machine_busy"] == 0.02


def test_report_body_is_two_kilobytes() -> None:
    body = report_request(7).json["body"]
    assert len(body) == REPORT_CHARS == 2048
    assert body != report_request(8).json["body"]


@pytest.mark.parametrize("url", ["http://10.0.0.8:8000", "http://example.org", "http://[::2]:80"])
async def test_driver_refuses_anything_but_loopback(url: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        await drive(url, report_request, concurrency=1, max_requests=1, max_seconds=1)


async def test_driver_sends_no_more_than_its_budget(live_server: LiveServer) -> None:
    live_server.start()
    seen = 0

    def count(_index: int, _answer: httpx.Response) -> None:
        nonlocal seen
        seen += 1

    result = await drive(
        live_server.url,
        lambda _index: Request("GET", "/api/v1/form"),
        concurrency=3,
        max_requests=7,
        max_seconds=60,
        on_answer=count,
    )
    assert result.ok == seen == 7
