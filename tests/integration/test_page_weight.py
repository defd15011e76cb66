"""The reporter pages' weight: a size, not a time (issue 20).

A reporter on a slow Tor circuit gets each page in one round trip after the first: every reporter
page's HTML is under 16 KB (inline ``data:`` images count, since they travel inside it), the one
stylesheet under 12 KB and cached after the first page, and no page or stylesheet asks for
anything else (no font, image, script or frame, from this host or any other). Every reporter
page is walked as a browser without JavaScript would reach it, in both languages: the guidance
pages, the form and its errors, the token page, the saved page, the status page with a message
exchange, and the error pages.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import lxml.html

import crypto
from tests.support.custodians import add_custodians
from tests.support.instance import Instance
from tests.support.staffing import sign_in

HTML_BUDGET = 16 * 1024
CSS_BUDGET = 12 * 1024
STYLESHEET = "/static/quietline.css"
LANGUAGES = {"en": {"accept-language": "en-CA"}, "fr-CA": {"accept-language": "fr-CA,fr;q=0.9"}}
OFFICER = "officer1@example.org"
REPORT = {
    "category": "financial",
    "body": "The department split a contract's invoices so none reached the council's threshold. "
    * 8,
}
# A realistic exchange on the status page: three replies each way, a paragraph each.
MESSAGE = (
    "On the fourth the invoices were approved by the same person who asked for them, and the "
    "minutes of the meeting say nothing of it. I can say which folder holds the copies. "
)
EXCHANGE = 3

# Elements that make a browser fetch something, and the attributes that name what.
FETCHING = {
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "iframe": ("src",),
    "frame": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "input": ("src",),
    "image": ("href",),
    "use": ("href",),
}
URL_IN_CSS = re.compile(r"url\(\s*(['\"]?)([^'\")]*)\1\s*\)", re.IGNORECASE)


@dataclass(frozen=True)
class Page:
    name: str
    language: str
    status: int
    body: bytes
    headers: httpx.Headers


Step = Callable[[httpx.AsyncClient, dict[str, str]], Awaitable[httpx.Response]]


def _token_of(page: httpx.Response) -> str:
    found = re.search(r'<input id="token-copy"[^>]* value="([0-9A-Z-]+)"', page.text)
    assert found, page.text
    return found.group(1)


async def _case_with_exchange(made: Instance, client: httpx.AsyncClient) -> str:
    """A filed report with three messages each way; returns its token."""
    filed = await client.post("/report", data=REPORT)
    assert filed.status_code == 201, filed.text
    token = _token_of(filed)
    officer = await sign_in(made, client, OFFICER)
    listed = await officer.get("/api/v1/cases", params={"category": REPORT["category"]})
    ref = listed.json()["cases"][0]["ref"]
    for number in range(EXCHANGE):
        sent = await client.post(
            "/status/message", data={"token": token, "body": f"{number}. {MESSAGE}"}
        )
        assert sent.status_code == 200, sent.text
        replied = await officer.post(
            f"/api/v1/cases/{ref}/messages", json={"body": f"Reply {number}. {MESSAGE}"}
        )
        assert replied.status_code in (200, 201), replied.text
    return token


def _steps(token: str) -> dict[str, tuple[Step, int]]:
    """Every reporter page: how to reach it, and the status it answers with."""

    def get(path: str) -> Step:
        async def go(client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
            return await client.get(path, headers=headers)

        return go

    def post(path: str, data: dict[str, str]) -> Step:
        async def go(client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
            return await client.post(path, data=data, headers=headers)

        return go

    def sent_twice() -> Step:
        async def go(client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
            form = {**REPORT, "once": crypto.new_once()}
            first = await client.post("/report", data=form, headers=headers)
            assert first.status_code == 201, first.text
            return await client.post("/report", data=form, headers=headers)

        return go

    return {
        "home": (get("/"), 200),
        "guide: process": (get("/guide/process"), 200),
        "guide: anonymity": (get("/guide/anonymity"), 200),
        "guide: other channels": (get("/guide/other-channels"), 200),
        "report form": (get("/report"), 200),
        "report form, the questions": (
            post("/report", {"category": REPORT["category"], "step": "questions"}),
            200,
        ),
        "report form, back to the category": (post("/report", {**REPORT, "step": "back"}), 200),
        "guide: anonymous or confidential": (get("/guide/confidential"), 200),
        "already sent": (sent_twice(), 409),
        "report form, nothing written": (post("/report", {**REPORT, "body": "   "}), 422),
        "report form, no category": (post("/report", {"body": REPORT["body"]}), 422),
        "token page": (post("/report", REPORT), 201),
        "token page, not confirmed": (post("/report/saved", {"token": token}), 422),
        "token page, token lost": (post("/report/saved", {"token": "nonsense"}), 422),
        "saved": (post("/report/saved", {"token": token, "saved": "yes"}), 200),
        "status form": (get("/status"), 200),
        "status, mistyped token": (
            post("/status", {"token": "ABCDE-FGHJK-MNPQR-STVWX-YZ01U"}),
            422,
        ),
        "status, no such case": (
            post("/status", {"token": crypto.new_token()}),
            404,
        ),
        "status with messages": (post("/status", {"token": token}), 200),
        "status, a name given under seal": (
            post("/status/identity", {"token": token, "identity_name": "Jo Reporter"}),
            200,
        ),
        "status, the name withdrawn": (
            post("/status/identity/withdraw", {"token": token, "confirm": "yes"}),
            200,
        ),
        "status, message sent": (
            post("/status/message", {"token": token, "body": "It happened twice."}),
            200,
        ),
        "status, empty message": (post("/status/message", {"token": token, "body": " "}), 422),
        "not found": (get("/no-such-page"), 404),
        "guide not found": (get("/guide/no-such-guide"), 404),
    }


async def _every_page(made: Instance, client: httpx.AsyncClient) -> list[Page]:
    await add_custodians(made)  # the form and the status page then offer to give a name
    token = await _case_with_exchange(made, client)
    pages = []
    for language, headers in LANGUAGES.items():
        for name, (step, expected) in _steps(token).items():
            answer = await step(client, headers)
            assert answer.status_code == expected, (name, language, answer.status_code)
            assert answer.headers["content-type"].startswith("text/html"), (name, language)
            pages.append(Page(name, language, answer.status_code, answer.content, answer.headers))
    return pages


def _is_inline(url: str) -> bool:
    return url.strip().lower().startswith("data:")


def _requests_of(page: Page) -> list[str]:
    """Everything the page would make a browser fetch, other than its one stylesheet and
    inline ``data:`` URIs."""
    document = lxml.html.document_fromstring(page.body)
    found = []
    for element in document.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        tag = tag.rsplit("}", 1)[-1].lower()
        if tag == "script":
            found.append(f"<script src={element.get('src')!r}>")
        elif tag == "link":
            rel = (element.get("rel") or "").lower().split()
            if rel != ["stylesheet"] or element.get("href") != STYLESHEET:
                found.append(f"<link rel={element.get('rel')!r} href={element.get('href')!r}>")
        elif tag == "style":
            found += [f"<style> {url}" for _, url in URL_IN_CSS.findall(element.text or "")]
            if "@import" in (element.text or "") or "@font-face" in (element.text or ""):
                found.append("<style> @import/@font-face")
        elif tag == "meta" and (element.get("http-equiv") or "").lower() == "refresh":
            found.append("<meta http-equiv=refresh>")
        for attribute in FETCHING.get(tag, ()):
            for value in _urls_of(element.get(attribute) or element.get(f"xlink:{attribute}")):
                if not _is_inline(value):
                    found.append(f"<{tag} {attribute}={value!r}>")
        for _, url in URL_IN_CSS.findall(element.get("style") or ""):
            if not _is_inline(url):
                found.append(f"<{tag} style=url({url})>")
    return found


def _urls_of(value: str | None) -> list[str]:
    if not value:
        return []
    if value.lower().startswith("data:"):
        return [value]
    # srcset: "url width" candidates separated by a comma and a space (a data: URI holds a
    # comma of its own, with no space after it).
    return [part.split()[0] for part in re.split(r",\s+", value.strip()) if part.strip()]


async def test_every_reporter_page_is_under_16_kb_in_both_languages(
    sqlite_seeded: Instance, sqlite_client: httpx.AsyncClient
) -> None:
    pages = await _every_page(sqlite_seeded, sqlite_client)
    assert len(pages) == 2 * len(_steps("x"))
    heavy = [(p.name, p.language, len(p.body)) for p in pages if len(p.body) >= HTML_BUDGET]
    assert heavy == []
    # Each page is the whole answer: not compressed away, not split into further requests.
    assert all("content-encoding" not in page.headers for page in pages)


async def test_no_reporter_page_asks_for_anything_but_its_stylesheet(
    sqlite_seeded: Instance, sqlite_client: httpx.AsyncClient
) -> None:
    pages = await _every_page(sqlite_seeded, sqlite_client)
    fetched = {(p.name, p.language): _requests_of(p) for p in pages}
    assert {where: found for where, found in fetched.items() if found} == {}
    for page in pages:
        links = lxml.html.document_fromstring(page.body).findall(".//link")
        assert [link.get("href") for link in links] == [STYLESHEET], (page.name, page.language)


async def test_the_stylesheet_is_under_12_kb_and_loads_nothing(
    sqlite_client: httpx.AsyncClient,
) -> None:
    css = await sqlite_client.get(STYLESHEET)
    assert css.status_code == 200
    assert len(css.content) < CSS_BUDGET, len(css.content)
    text = css.text
    assert "@import" not in text and "@font-face" not in text
    assert [url for _, url in URL_IN_CSS.findall(text) if not _is_inline(url)] == []
    # Cached after the first page, so later pages cost one round trip each.
    assert "max-age" in css.headers.get("cache-control", "") or "etag" in css.headers


def test_the_checker_sees_what_a_browser_would_fetch() -> None:
    """The parser is the judge: it must find each kind of request, and pass data: images."""
    page = Page(
        "sample",
        "en",
        200,
        b"<!doctype html><html><head><link rel=stylesheet href=/static/quietline.css>"
        b"<link rel=icon href=/favicon.ico><script>1</script><style>b{background:url(x.png)}"
        b"</style></head><body><img src='data:image/png;base64,AAAA' alt=''>"
        b"<img srcset='a.png 1x, data:image/png;base64,AA 2x' alt=''>"
        b"<p style='background:url(\"https://elsewhere.example/t.gif\")'>x</p>"
        b"<iframe src=https://elsewhere.example/></iframe></body></html>",
        httpx.Headers(),
    )
    found = _requests_of(page)
    assert len(found) == 6, found
    assert not any("data:" in item for item in found)
