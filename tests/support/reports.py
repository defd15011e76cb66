"""Filing a report as a reporter does, through the JSON API, for tests that need one filed."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

REPORT: Mapping[str, object] = {
    "category": "financial",
    "body": "The contract was signed twice, see invoice 4471.",
}


def _token_of(answer: httpx.Response) -> str:
    assert answer.status_code == 201, answer.text
    token: str = answer.json()["token"]
    return token


async def file_report(
    client: httpx.AsyncClient, report: Mapping[str, object] = REPORT, **changes: object
) -> str:
    """POST ``report`` (with ``changes``) to /api/v1/reports; the token, once it was filed."""
    return _token_of(await client.post("/api/v1/reports", json={**report, **changes}))


def file_report_to(url: str, report: Mapping[str, object] = REPORT, **changes: object) -> str:
    """The same against a running server at ``url``."""
    return _token_of(httpx.post(f"{url}/api/v1/reports", json={**report, **changes}, timeout=60))


async def questions_page(
    client: httpx.AsyncClient, category: str = "financial", **headers: str
) -> httpx.Response:
    """The report form's second page (the category's questions, the text, files and routing),
    reached as a browser without JavaScript does: the first page posted with a category."""
    return await client.post(
        "/report", data={"category": category, "step": "questions"}, headers=headers or None
    )
