"""An unexpected error during a reporter's request is logged later, without its time or page."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from intake.web.app import InternalErrorMiddleware
from intake.web.errorlog import ReporterErrorLog

LOGGER = "quietline.test-errors"


def failing_app(errors: ReporterErrorLog) -> Starlette:
    async def fail(request: Request) -> Response:
        raise RuntimeError("a message that could quote what someone sent")

    return Starlette(
        routes=[Route("/report", fail, methods=["POST"]), Route("/staff/cases", fail)],
        middleware=[Middleware(InternalErrorMiddleware, reporter_errors=errors)],
    )


def client_for(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test")


async def test_a_reporters_error_is_held_then_logged_by_type_and_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    errors = ReporterErrorLog(logging.getLogger(LOGGER))
    caplog.set_level(logging.ERROR, logger=LOGGER)
    async with client_for(failing_app(errors)) as client:
        for _ in range(2):
            answer = await client.post("/report", data={"body": "secret words"})
            assert answer.status_code == 500
            assert "Something went wrong" in answer.text
    # Nothing at the moment of the request: the line's time would say when a reporter came.
    assert caplog.records == []
    errors.flush()
    (record,) = caplog.records
    line = record.getMessage()
    assert "RuntimeError x2" in line
    assert "/report" not in line and "secret" not in line and "quote" not in line


async def test_the_held_line_is_written_by_itself_within_the_delay(
    caplog: pytest.LogCaptureFixture,
) -> None:
    errors = ReporterErrorLog(logging.getLogger(LOGGER), max_delay=0.05)
    caplog.set_level(logging.ERROR, logger=LOGGER)
    async with client_for(failing_app(errors)) as client:
        assert (await client.post("/report")).status_code == 500
    await asyncio.sleep(0.2)
    assert ["RuntimeError x1" in record.getMessage() for record in caplog.records] == [True]


async def test_a_staff_requests_error_is_logged_at_once_with_its_page(
    caplog: pytest.LogCaptureFixture,
) -> None:
    errors = ReporterErrorLog(logging.getLogger(LOGGER))
    caplog.set_level(logging.ERROR, logger="quietline")
    async with client_for(failing_app(errors)) as client:
        assert (await client.get("/staff/cases")).status_code == 500
    messages = [record.getMessage() for record in caplog.records]
    assert messages == ["internal error on /staff/cases: RuntimeError"]


async def test_the_error_page_names_the_organisation() -> None:
    """Even the last-resort 500 page says whose service this is, in its title."""
    from intake.accounts.organisation import Identity
    from intake.web.organisation import STATE_KEY

    inner = failing_app(ReporterErrorLog(logging.getLogger(LOGGER)))

    async def with_identity(scope, receive, send):  # type: ignore[no-untyped-def]
        scope.setdefault("state", {})[STATE_KEY] = Identity(name_en="City of Riverside")
        await inner(scope, receive, send)

    async with client_for(with_identity) as client:  # type: ignore[arg-type]
        answer = await client.get("/staff/cases")
    assert answer.status_code == 500
    assert "<title>Error · City of Riverside</title>" in answer.text
