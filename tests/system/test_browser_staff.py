"""The staff's casework pages in a real headless Chromium with JavaScript off, against a real
server: the queue, a case, the audit log and the statistics, in English and French, at a desktop
width (1280 px) and a phone's (390 px).

Each page must not scroll sideways on a phone, must never break a date or a case reference
across two lines, and must pass axe-core with no serious or critical violation. Each is
photographed into test-artifacts/staff/ for people to look at. The checks run from the test
harness (Playwright's evaluate); the pages themselves run no script.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import pytest

from tests.support.live import LiveServer
from tests.system.test_browser import (
    ARTIFACTS,
    AXE_SERIOUS,
    _context,
    _office_session,
    _watch_hosts,
    axe_source,
    chromium,
    site,
)

__all__ = ["axe_source", "chromium", "site"]  # fixtures, shared with the reporter pages' tests

WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
SHOTS = ARTIFACTS / "staff"
CASE_TEXT = "The parks depot's fuel card paid for a private trip on a long weekend."
OTHER_TEXT = "Overtime sheets in the roads department are signed by the same person."

# Every date or case reference in the page's text that the browser laid out on more than one
# line, found in the text itself (whatever element holds it): references, ISO days, and days as
# English ("Dec 6, 2026") and French ("6 déc. 2026") write them.
BROKEN_ON_TWO_LINES = r"""() => {
    const written = new RegExp([
        'QL-[0-9A-Z]{5}-[0-9A-Z]{5}', '\\d{4}-\\d\\d-\\d\\d',
        '[A-Z][a-z]{2} \\d{1,2}, \\d{4}', '\\d{1,2} [a-zéû]{3,5}\\.? \\d{4}',
    ].join('|'), 'g');
    const broken = [];
    const main = document.querySelector('main');
    const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (const found of node.data.matchAll(written)) {
            const range = document.createRange();
            range.setStart(node, found.index);
            range.setEnd(node, found.index + found[0].length);
            const lines = new Set([...range.getClientRects()]
                .filter(box => box.width > 0).map(box => Math.round(box.top)));
            if (lines.size > 1) broken.push(found[0]);
        }
    }
    return broken;
}"""
SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
# What sticks out past the right edge, for the message when a page scrolls sideways.
STICKING_OUT = """() => [...document.querySelectorAll('body *')]
    .filter(element => element.getBoundingClientRect().right
        > document.documentElement.clientWidth + 1)
    .slice(0, 3).map(element => element.outerHTML.slice(0, 120))"""


@pytest.fixture(scope="module")
def office(site: LiveServer) -> Iterator[httpx.Client]:
    http = _office_session(site)
    try:
        yield http
    finally:
        http.close()


def _ref_of(http: httpx.Client, text: str) -> str:
    for row in http.get("/api/v1/cases", params={"limit": "200"}).json()["cases"]:
        if text in json.dumps(http.get(f"/api/v1/cases/{row['ref']}").json()["report"]):
            return str(row["ref"])
    raise AssertionError("no case holds that report")


@pytest.fixture(scope="module")
def worked_case(office: httpx.Client) -> str:
    """A case with a timeline: acknowledged, a message each way, a note, access given, exported."""
    categories = [item["id"] for item in office.get("/api/v1/form").json()["categories"]]
    for category, text in ((categories[0], CASE_TEXT), (categories[-1], OTHER_TEXT)):
        filed = office.post("/api/v1/reports", json={"category": category, "body": text})
        assert filed.status_code == 201, filed.text
    ref = _ref_of(office, CASE_TEXT)
    for path, body in (
        ("stage", {"stage": "acknowledged"}),
        ("messages", {"body": "Thank you. Which weekend was it?"}),
        ("notes", {"body": "Check the depot's fuel log for that weekend."}),
        ("stage", {"stage": "assessing"}),
    ):
        answer = office.post(f"/api/v1/cases/{ref}/{path}", json=body)
        assert answer.status_code in (200, 201), answer.text
    people = office.get("/api/v1/staff").json()
    admin = next(person["id"] for person in people if person["role"] == "admin")
    assert office.post(f"/api/v1/cases/{ref}/grants", json={"staff_id": admin}).status_code in (
        200,
        201,
    )
    return ref


def _pages(ref: str) -> dict[str, str]:
    return {
        "queue": "/staff/",
        "queue-by-due": "/staff/?sort=due",
        "case": f"/staff/cases/{ref}",
        "audit": "/staff/audit",
        "stats": "/staff/stats",
    }


def test_the_casework_pages_reflow_keep_dates_whole_and_pass_axe(
    chromium: object, site: LiveServer, office: httpx.Client, worked_case: str, axe_source: str
) -> None:
    cookies = [
        {"name": name, "value": value, "url": site.url} for name, value in office.cookies.items()
    ]
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for lang in ("en", "fr-CA"):
        for label, (width, height) in WIDTHS.items():
            viewport = {"width": width, "height": height}
            # The pages as people see them, script off; axe needs script, in a context of its own
            # (the pages carry none, so they lay out the same).
            context = _context(chromium, viewport=viewport)
            checker = _context(chromium, javascript=True, viewport=viewport)
            for made in (context, checker):
                made.add_cookies(cookies)
            page, axe_page = context.new_page(), checker.new_page()
            elsewhere = _watch_hosts(page, site)
            for name, path in _pages(worked_case).items():
                joiner = "&" if "?" in path else "?"
                url = f"{site.url}{path}{joiner}lang={lang}"
                answer = page.goto(url)
                where = f"{lang} {width}px {name}"
                assert answer.status == 200, where
                assert page.locator("html").get_attribute("lang") == lang, where
                page.screenshot(path=str(SHOTS / f"{name}.{lang}.{label}.png"), full_page=True)
                if label == "phone" and (overflow := page.evaluate(SIDEWAYS)) > 0:
                    wide = page.evaluate(STICKING_OUT)
                    problems.append(f"{where}: scrolls sideways by {overflow}px: {wide}")
                for broken in page.evaluate(BROKEN_ON_TWO_LINES):
                    problems.append(f"{where}: broken across lines: {broken}")
                axe_page.goto(url)
                axe_page.add_script_tag(content=axe_source)
                for violation in axe_page.evaluate(AXE_SERIOUS):
                    problems.append(f"{where}: {json.dumps(violation)}")
            assert elsewhere == []
            context.close()
            checker.close()
    assert problems == [], "\n".join(problems)


def test_the_queue_sorts_by_its_column_headers_without_javascript(
    chromium: object, site: LiveServer, office: httpx.Client, worked_case: str
) -> None:
    context = _context(chromium, viewport={"width": 1280, "height": 900})
    context.add_cookies(
        [{"name": n, "value": v, "url": site.url} for n, v in office.cookies.items()]
    )
    page = context.new_page()
    page.goto(f"{site.url}/staff/")
    received = page.get_by_role("columnheader", name="Received")
    assert received.get_attribute("aria-sort") == "descending"
    received.get_by_role("link").click()
    assert page.url.endswith("sort=oldest")
    assert (
        page.get_by_role("columnheader", name="Received").get_attribute("aria-sort") == "ascending"
    )
    page.get_by_role("columnheader", name="Stage").get_by_role("link").click()
    stages = page.locator("table.queue tbody td:nth-child(4)").all_inner_texts()
    order = ["Received", "Acknowledged", "Being assessed", "Under investigation", "Concluded"]
    assert [order.index(stage.strip()) for stage in stages] == sorted(
        order.index(stage.strip()) for stage in stages
    )
    # The filters keep the order chosen.
    page.get_by_role("button", name="Show").click()
    assert "sort=stage" in page.url
    context.close()


def test_the_case_page_offers_its_choices_and_a_timeline_without_javascript(
    chromium: object, site: LiveServer, office: httpx.Client, worked_case: str
) -> None:
    context = _context(chromium, viewport={"width": 1280, "height": 900})
    context.add_cookies(
        [{"name": n, "value": v, "url": site.url} for n, v in office.cookies.items()]
    )
    page = context.new_page()
    page.goto(f"{site.url}/staff/cases/{worked_case}")
    timeline = page.locator("ol.timeline").inner_text()
    for expected in (
        "Thank you. Which weekend was it?",
        "Check the depot's fuel log for that weekend.",
        "Moved the case from Acknowledged to Being assessed",
        "access to the case",
    ):
        assert expected in timeline, expected
    assert re.search(r"\d{4}-\d\d-\d\d", page.locator("main").inner_text()) is None
    # Side by side at desktop width: the facts to the right of the report.
    side = page.locator("aside.case-side").bounding_box()
    report = page.locator(".case-main").bounding_box()
    assert side["x"] > report["x"] + report["width"] - 1
    # The header and the content start at the same left edge.
    header = page.locator("header.site").bounding_box()
    main = page.locator("main").bounding_box()
    assert abs(header["x"] - main["x"]) < 1
    # Only the people the case may go to are offered; giving access works without script.
    offered = page.locator("#grantee option").all_inner_texts()
    names = [text.split(" (")[0] for text in offered]
    # The holders (both demo officers of the office) and the administrator given it are not
    # offered again; the others are.
    assert names[0] == "Choose a person" and "Alex Alternate" in names
    assert not {"Olivia Officer", "Omar Officer", "Ada Admin"} & set(names)
    page.get_by_label("Give access to").select_option(index=names.index("Alex Alternate"))
    page.get_by_role("button", name="Give access", exact=True).click()
    assert page.get_by_role("status").first.inner_text() == "Access was given."
    assert "Alex Alternate" in page.locator("aside.case-actions ul").inner_text()
    context.close()
