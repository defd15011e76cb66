"""Confidential reporting in a real headless Chromium, JavaScript off, against a real server
(the demo office, which names an identity custodian).

A reporter gives their name in the form's confidential section; an officer asks to open it, the
custodian approves; the reporter's status page says it was opened and lets them destroy it. The
section, the status page's identity part and the guide page are checked with axe-core in both
languages at desktop and phone widths, and photographed into test-artifacts/.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

import httpx
import pyotp
import pytest

from tests.support.catalog_check import catalog_sentences, untranslated
from tests.support.live import LiveServer
from tests.system import test_browser as browser
from tests.system.test_browser import (
    ARTIFACTS,
    VIEWPORTS,
    _case_about,
    _context,
    _token_on,
    _watch_hosts,
)

# The reporter pages' fixtures: Debian's Chromium, axe-core, the demo office and its officer.
chromium = browser.chromium
axe_source = browser.axe_source
site = browser.site
office = browser.office

NAME = "Rosalind Ferncastle"
CONTACT = "555-0142"
REPORT_TEXT = "The parks department's social media account password is shared with a vendor."
# The form's two pages: the category, then the questions, the text and this section.
QUESTIONS = "main form button[name=step][value=questions]"
SEND = "main form button[type=submit]:not([name=step])"
CATEGORY = {
    "en": "Danger to health, safety or the environment",
    "fr-CA": "Danger pour la santé, la sécurité ou l'environnement",
}


def _signed_in(site: LiveServer, email: str) -> httpx.Client:
    found = re.search(
        rf"staff {re.escape(email)} \([a-z]+, group [a-z]+\): password (\S+)\s+TOTP secret (\S+)",
        site.demo_output,  # type: ignore[attr-defined]
    )
    assert found, f"the demo output names no {email}"
    http = httpx.Client(base_url=site.url, timeout=30)
    signed = http.post(
        "/api/v1/staff/login",
        json={"email": email, "password": found.group(1), "totp": pyotp.TOTP(found.group(2)).now()},
    )
    assert signed.status_code == 200, signed.text
    http.headers["X-CSRF-Token"] = signed.json()["csrf"]
    return http


@pytest.fixture(scope="module")
def custodian(site: LiveServer) -> Iterator[httpx.Client]:
    http = _signed_in(site, "custodian@example.org")
    try:
        yield http
    finally:
        http.close()


def test_a_confidential_report_opened_and_withdrawn_without_javascript(
    chromium: object, site: LiveServer, office: httpx.Client, custodian: httpx.Client
) -> None:
    context = _context(chromium)
    page = context.new_page()
    elsewhere = _watch_hosts(page, site)
    page.goto(site.url + "/report")
    page.get_by_label(CATEGORY["en"]).check()
    page.locator(QUESTIONS).click()  # the section is on the second page, with the text
    section = page.locator("#confidential")
    assert "leave empty to stay anonymous" in section.inner_text()
    assert "it takes two people to open" in section.inner_text()
    page.get_by_label("What happened?").fill(REPORT_TEXT)
    page.get_by_label("Your name", exact=True).fill(NAME)
    page.get_by_label("How the office can reach you (optional)").fill(CONTACT)
    with page.expect_navigation():
        page.get_by_role("button", name="Send the report").click()
    token = _token_on(page)

    page.goto(site.url + "/status")
    page.get_by_label("Your case token").fill(token)
    with page.expect_navigation():
        page.get_by_role("button", name="Open").click()
    assert "You gave your name on" in page.content()
    assert "Your name has not been opened to anyone." in page.content()

    # The officer asks; the custodian, who reads only the reason, approves.
    ref = _case_about(office, REPORT_TEXT)
    assert office.get(f"/api/v1/cases/{ref}/identity").json()["identity"] is None
    asked = office.post(
        f"/api/v1/cases/{ref}/identity/requests", json={"reason": "To offer protection."}
    )
    assert asked.status_code == 201, asked.text
    waiting = custodian.get("/api/v1/identity/requests").json()["requests"]
    assert [item["case"] for item in waiting] == [ref]
    assert REPORT_TEXT not in json.dumps(waiting) and NAME not in json.dumps(waiting)
    assert custodian.post(f"/api/v1/identity/requests/{waiting[0]['id']}/approve").is_success
    assert office.get(f"/api/v1/cases/{ref}/identity").json()["identity"]["name"] == NAME

    page.goto(site.url + "/status")
    page.get_by_label("Your case token").fill(token)
    with page.expect_navigation():
        page.get_by_role("button", name="Open").click()
    assert "Your name was opened on" in page.content() and "Intake officer" in page.content()

    # Asking that it not be used: the browser's own check holds back an unticked box.
    page.get_by_role("button", name="Ask that my name not be used").click()
    assert "You gave your name on" in page.content()
    page.get_by_label("I ask that my name not be used: destroy it.").check()
    page.get_by_role("button", name="Ask that my name not be used").click()
    assert page.get_by_role("status").inner_text().startswith("Your name was destroyed")
    assert office.get(f"/api/v1/cases/{ref}/identity").json()["identity"] is None
    assert elsewhere == []
    context.close()


def _visits(site: LiveServer, lang: str) -> list[tuple[str, Callable[[object], None]]]:
    def goto(path: str) -> Callable[[object], None]:
        return lambda page: page.goto(f"{site.url}{path}?lang={lang}")  # type: ignore[attr-defined]

    def questions(page: object, category: str | None = None) -> None:
        goto("/report")(page)
        if category is None:
            page.locator("input[name=category]").first.check()  # type: ignore[attr-defined]
        else:
            page.get_by_label(category).check()  # type: ignore[attr-defined]
        page.locator(QUESTIONS).click()  # type: ignore[attr-defined]

    def section(page: object) -> None:
        questions(page)
        page.locator("#confidential").scroll_into_view_if_needed()  # type: ignore[attr-defined]

    def section_error(page: object) -> None:
        questions(page)
        page.locator("#body").fill(REPORT_TEXT)  # type: ignore[attr-defined]
        page.locator("#identity_contact").fill(CONTACT)  # type: ignore[attr-defined]
        page.locator(SEND).click()  # type: ignore[attr-defined]

    def status_with(name: str | None) -> Callable[[object], None]:
        def go(page: object) -> None:
            questions(page, CATEGORY[lang])
            page.locator("#body").fill(REPORT_TEXT)  # type: ignore[attr-defined]
            if name:
                page.locator("#identity_name").fill(name)  # type: ignore[attr-defined]
            page.locator(SEND).click()  # type: ignore[attr-defined]
            token = _token_on(page)
            goto("/status")(page)
            page.locator("#token").fill(token)  # type: ignore[attr-defined]
            page.locator("main form button[type=submit]").last.click()  # type: ignore[attr-defined]
            if not name:  # open the "give your name" part (a <details>, no script)
                page.locator("#identity ~ details summary").click()  # type: ignore[attr-defined]

        return go

    return [
        ("guide-confidential", goto("/guide/confidential")),
        ("report-confidential", section),
        ("report-confidential-error", section_error),
        ("status-confidential", status_with(NAME)),
        ("status-give-name", status_with(None)),
    ]


def test_the_confidential_section_is_accessible_in_both_languages(
    chromium: object, site: LiveServer, axe_source: str
) -> None:
    problems: list[str] = []
    for lang in ("en", "fr-CA"):
        for width, height in ((1280, 900), (320, 640)):
            context = _context(
                chromium, javascript=True, viewport={"width": width, "height": height}
            )
            page = context.new_page()
            for name, go in _visits(site, lang):
                go(page)
                page.add_script_tag(content=axe_source)
                found = page.evaluate(
                    """async () => {
                        const found = await axe.run(document, {resultTypes: ['violations']});
                        return found.violations
                            .filter(v => v.impact === 'serious' || v.impact === 'critical')
                            .map(v => ({id: v.id, nodes: v.nodes.map(n => n.target.join(' '))}));
                    }"""
                )
                problems += [f"{lang} {width}px {name}: {json.dumps(item)}" for item in found]
                overflow = page.evaluate(
                    "() => document.documentElement.scrollWidth - window.innerWidth"
                )
                if overflow > 0:
                    problems.append(f"{lang} {width}px {name}: scrolls sideways {overflow}px")
            context.close()
    assert problems == []


def test_the_confidential_pages_in_french_and_photographed(
    chromium: object, site: LiveServer
) -> None:
    sentences = catalog_sentences()
    shots = ARTIFACTS / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for lang, locale in (("en", "en-CA"), ("fr-CA", "fr-CA")):
        for label, options in VIEWPORTS.items():
            context = _context(chromium, locale=locale, **options)
            page = context.new_page()
            elsewhere = _watch_hosts(page, site)
            for name, go in _visits(site, lang):
                go(page)
                assert page.locator("html").get_attribute("lang") == lang, name
                page.screenshot(path=str(shots / f"{name}.{lang}.{label}.png"), full_page=True)
                if lang == "fr-CA" and label == "desktop":
                    left = untranslated(page.content(), sentences)
                    if left:
                        problems.append(f"{name}: {sorted(left)}")
            assert elsewhere == []
            context.close()
    assert problems == []
