"""The reporter's pages, driven as a browser without JavaScript would: plain GETs and form POSTs."""

from __future__ import annotations

import re

import httpx


def _token_from(page: str) -> str:
    found = re.search(r'<input id="token-copy"[^>]* value="([0-9A-Z-]+)"', page)
    assert found, page
    return found.group(1)


async def test_file_a_report_then_come_back_and_reply(sqlite_client: httpx.AsyncClient) -> None:
    form = await sqlite_client.get("/report")
    assert form.status_code == 200
    assert 'name="category"' in form.text and "<script" not in form.text
    assert "Nobody can recover it for you if it is lost" in form.text

    filed = await sqlite_client.post(
        "/report",
        data={
            "category": "social-media",
            "body": "The account posted for a campaign.",
            "involves_office": "yes",
        },
    )
    assert filed.status_code == 201
    assert filed.headers["cache-control"] == "no-store"
    token = _token_from(filed.text)

    status = await sqlite_client.post("/status", data={"token": token.lower()})
    assert status.status_code == 200
    assert "Received" in status.text and "No messages yet." in status.text
    assert "Acknowledgement due by" in status.text

    sent = await sqlite_client.post("/status/message", data={"token": token, "body": "More facts."})
    assert sent.status_code == 200
    assert "Your message was sent to the office." in sent.text
    assert "More facts." in sent.text


async def test_mistyped_and_unknown_tokens_are_named_as_such(
    sqlite_client: httpx.AsyncClient,
) -> None:
    typo = await sqlite_client.post("/status", data={"token": "ABCDE-FGHJK-MNPQR-STVWX-YZ01U"})
    assert typo.status_code == 422
    assert "never used in tokens" in typo.text
    # What was typed stays in the field so it can be corrected.
    assert 'value="ABCDE-FGHJK-MNPQR-STVWX-YZ01U"' in typo.text


async def test_every_reporter_page_loads_nothing_from_elsewhere(
    sqlite_client: httpx.AsyncClient,
) -> None:
    for path in ("/", "/report", "/status"):
        page = await sqlite_client.get(path)
        assert page.status_code == 200
        assert "<script" not in page.text
        # Nothing is loaded from another host; the one link that leaves is the quick exit.
        assert not re.search(r'src="(https?:)?//', page.text), path
        leaving = re.findall(r'<a [^>]*href="(?:https?:)?//[^"]*"[^>]*>', page.text)
        assert len(leaving) == 1 and 'class="quick-exit"' in leaving[0], path
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert page.headers["referrer-policy"] == "no-referrer"
    css = await sqlite_client.get("/static/quietline.css")
    assert css.status_code == 200 and "url(" not in css.text


# The pages' weight (every reporter page under 16 KB, the stylesheet under 12 KB, nothing else
# fetched) is held in test_page_weight.py.
