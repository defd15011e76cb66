"""A form sent twice files one report; an empty form names every problem at once."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import httpx
from sqlalchemy import func, inspect
from sqlmodel import select

import crypto
from intake.casework import retention
from intake.storage.models import Case, SpentFormValue
from tests.support.instance import Instance


def _once_of(page: str) -> str:
    found = re.search(r'<input type="hidden" name="once" value="([A-Za-z0-9_-]+)">', page)
    assert found, page
    return found.group(1)


async def _cases(made: Instance) -> int:
    async with made.runtime.sessions() as session:
        return (await session.exec(select(func.count()).select_from(Case))).one()


def _report(once: str) -> dict[str, str]:
    return {"category": "safety", "body": "The guard rail on level 3 is loose.", "once": once}


async def test_the_same_form_sent_again_files_nothing_new(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    once = _once_of((await client.get("/report")).text)
    first = await client.post("/report", data=_report(once))
    assert first.status_code == 201
    # Reload of the token page, or back and send again: the browser resends the same form.
    again = await client.post("/report", data=_report(once))
    assert again.status_code == 409
    assert "This report was already sent" in again.text
    assert "token was shown on the page that came after you sent it" in again.text
    assert 'id="token-copy"' not in again.text
    assert await _cases(seeded) == 1
    # Another form page carries another value: a second report is still possible.
    fresh = _once_of((await client.get("/report")).text)
    assert fresh != once
    assert (await client.post("/report", data=_report(fresh))).status_code == 201
    assert await _cases(seeded) == 2


async def test_a_double_click_files_one_report(client: httpx.AsyncClient, seeded: Instance) -> None:
    """Two submissions at once with the same value: one case, the other sees "already sent"
    (written together in one batch, or in two transactions when files come with them)."""
    once = _once_of((await client.get("/report")).text)
    answers = await asyncio.gather(*(client.post("/report", data=_report(once)) for _ in range(2)))
    assert sorted(answer.status_code for answer in answers) == [201, 409]
    assert await _cases(seeded) == 1

    once = _once_of((await client.get("/report")).text)
    files = {"files": ("note.txt", b"plain words", "text/plain")}
    answers = await asyncio.gather(
        *(client.post("/report", data=_report(once), files=files) for _ in range(3))
    )
    assert sorted(answer.status_code for answer in answers) == [201, 409, 409]
    assert await _cases(seeded) == 2


async def test_an_api_idempotency_key_files_once(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    body = {"category": "safety", "body": "Once.", "idempotency_key": "k" * 20}
    assert (await client.post("/api/v1/reports", json=body)).status_code == 201
    again = await client.post("/api/v1/reports", json=body)
    assert again.status_code == 409
    assert "already sent" in again.json()["error"]
    bad = await client.post("/api/v1/reports", json={**body, "idempotency_key": "no spaces here!"})
    assert bad.status_code == 422
    assert await _cases(seeded) == 1


async def test_only_a_keyed_hash_is_kept_unlinked_and_gone_after_the_day_after(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    once = _once_of((await client.get("/report")).text)
    assert (await client.post("/report", data=_report(once))).status_code == 201
    runtime = seeded.runtime
    async with runtime.sessions() as session:
        (kept,) = (await session.exec(select(SpentFormValue))).all()
        case = (await session.exec(select(Case))).one()
    # The value itself is nowhere: only its HMAC under the server's pepper.
    assert kept.digest == crypto.once_digest(runtime.secrets.token_pepper, once)
    assert once.encode() not in kept.digest
    assert kept.keep_until == case.received_on + timedelta(days=1)
    # Nothing links it to the case: the table holds the hash and a day, and no foreign key.
    async with runtime.engine.connect() as connection:
        columns, keys = await connection.run_sync(
            lambda sync: (
                [column["name"] for column in inspect(sync).get_columns("spentformvalue")],
                inspect(sync).get_foreign_keys("spentformvalue"),
            )
        )
    assert sorted(columns) == ["digest", "keep_until"] and keys == []
    # Kept through the day after; the retention run deletes it the day after that.
    await retention.run(runtime, today=kept.keep_until)
    async with runtime.sessions() as session:
        assert len((await session.exec(select(SpentFormValue))).all()) == 1
    await retention.run(runtime, today=kept.keep_until + timedelta(days=1))
    async with runtime.sessions() as session:
        assert (await session.exec(select(SpentFormValue))).all() == []


async def test_an_empty_form_names_every_problem_at_once(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    once = _once_of((await client.get("/report")).text)
    empty = await client.post("/report", data={"body": "", "once": once})
    assert empty.status_code == 422
    summary = re.search(r'<div class="error error-summary".*?</div>', empty.text, re.S)
    assert summary, empty.text
    assert '<a href="#category">Please choose one of the listed categories.</a>' in summary[0]
    assert '<a href="#body">' in summary[0]
    # Each field carries its own message too, and the same one-time value comes back.
    assert 'id="category-error"' in empty.text and 'id="body-error"' in empty.text
    assert _once_of(empty.text) == once
    # What was typed is kept while the other problems are named.
    typed = await client.post(
        "/report",
        data={"body": "Words I typed.", "original_token": "not a token", "once": once},
    )
    assert typed.status_code == 422
    assert "Words I typed.</textarea>" in typed.text
    assert 'value="not a token"' in typed.text
    assert '<a href="#category">' in typed.text and '<a href="#original_token">' in typed.text
    assert 'id="original_token-error"' in typed.text
    assert await _cases(seeded) == 0
    # Once corrected, the same form files.
    assert (await client.post("/report", data=_report(once))).status_code == 201
