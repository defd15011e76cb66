# ruff: noqa: F811 - the fixtures imported from test_browser are named as parameters
"""The two-page report form with a questionnaire of every kind, in a real Chromium with
JavaScript off, against a real server: in English and French, at desktop and phone widths,
checked with axe-core, each page photographed into test-artifacts/questionnaire/."""

from __future__ import annotations

import html
import re
import shutil

import httpx
import pyotp
import pytest

from tests.support.live import LiveServer
from tests.system.test_browser import (  # noqa: F401 - the fixtures, shared
    ARTIFACTS,
    _context,
    _serious_violations,
    _token_on,
    axe_source,
    chromium,
    site,
)

pytest.importorskip("playwright.sync_api")

SHOTS = ARTIFACTS / "questionnaire"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
OTHER = {"en": "Something else", "fr-CA": "Autre chose"}
# Every kind, added to "Something else" by the administrator through the questionnaires page.
QUESTIONS = (
    ("building", "text", "Which building?", "Quel bâtiment ?", ""),
    (
        "details",
        "long_text",
        "Anything else about the building?",
        "Autre chose sur le bâtiment ?",
        "",
    ),
    (
        "van",
        "single",
        "Which colour was the van?",
        "De quelle couleur était la camionnette ?",
        "Red\nBlue",
    ),
    ("days", "multiple", "On which days?", "Quels jours ?", "Monday\nTuesday"),
    ("seen", "yes_no", "Did you see it yourself?", "L'avez-vous vu vous-même ?", ""),
    ("day", "date", "On which day exactly?", "Quel jour exactement ?", ""),
    ("count", "number", "How many vans?", "Combien de camionnettes ?", ""),
    ("cost", "amount", "How much was paid?", "Combien a été payé ?", ""),
)
FRENCH_CHOICES = {"van": "Rouge\nBleu", "days": "Lundi\nMardi"}


def _demo_login(site: LiveServer, email: str) -> httpx.Client:
    found = re.search(
        rf"staff {re.escape(email)} \([a-z]+, group [a-z]+\): password (\S+)\s+TOTP secret (\S+)",
        site.demo_output,  # type: ignore[attr-defined]
    )
    assert found, f"the demo output names no {email}"
    http = httpx.Client(base_url=site.url, timeout=30)
    signed = http.post(
        "/staff/login",
        data={"email": email, "password": found.group(1), "totp": pyotp.TOTP(found.group(2)).now()},
    )
    assert signed.status_code == 303, signed.text
    return http


@pytest.fixture(scope="module")
def every_kind(site: LiveServer) -> None:
    admin = _demo_login(site, "admin@example.org")
    page = admin.get("/admin/questionnaires")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    for ident, kind, english, french, choices in QUESTIONS:
        added = admin.post(
            "/admin/questionnaires",
            data={
                "csrf": csrf,
                "action": "add",
                "scope": "other",
                "id": ident,
                "kind": kind,
                "text_en": english,
                "text_fr": french,
                "choices_en": choices,
                "choices_fr": FRENCH_CHOICES.get(ident, ""),
                "may_identify": "yes" if ident == "building" else "",
            },
        )
        assert added.status_code == 303, html.unescape(added.text)
    admin.close()


def _fill_every_kind(page: object, lang: str) -> None:
    fill = page.locator  # type: ignore[attr-defined]
    fill("#q-building").fill("Depot 4")
    fill("#q-details").fill("An unmarked van parks there at night.")
    fill("input[name=q-van][value=blue]").check()
    fill("input[name=q-days][value=monday]").check()
    fill("input[name=q-days][value=tuesday]").check()
    fill("input[name=q-seen][value=unknown]").check()
    fill("#q-day").fill("2026-11-02")
    fill("#q-count").fill("3")
    fill("#q-cost").fill("12 500,50" if lang == "fr-CA" else "12,500.50")
    fill("#q-when-year").select_option("2025")
    fill("#q-when-month").select_option("03")
    fill("input[name=q-before][value=no]").check()
    fill("#body").fill(f"A van parks at the depot every night ({lang}).")


def test_a_report_in_two_pages_with_answers_of_every_kind_without_javascript(
    chromium: object, site: LiveServer, every_kind: None, axe_source: str
) -> None:
    if SHOTS.exists():
        shutil.rmtree(SHOTS)
    SHOTS.mkdir(parents=True)
    problems: list[str] = []
    for lang in ("en", "fr-CA"):
        for label, (width, height) in WIDTHS.items():
            viewport = {"width": width, "height": height}
            context = _context(chromium, locale=lang, viewport=viewport)
            page = context.new_page()
            page.goto(site.url + "/report")
            page.get_by_label(OTHER[lang]).check()
            page.screenshot(path=str(SHOTS / f"1-category.{lang}.{label}.png"), full_page=True)
            page.locator("main form button[name=step][value=questions]").click()
            _fill_every_kind(page, lang)
            page.screenshot(path=str(SHOTS / f"2-questions.{lang}.{label}.png"), full_page=True)
            # Back to the category and forward again: nothing typed is lost.
            page.locator("main form button[name=step][value=back]").click()
            assert page.get_by_label(OTHER[lang]).is_checked()
            page.locator("main form button[name=step][value=questions]").click()
            assert page.locator("#q-building").input_value() == "Depot 4"
            assert page.locator("input[name=q-van][value=blue]").is_checked()
            assert page.locator("#q-when-month").input_value() == "03"
            assert "every night" in page.locator("#body").input_value()
            # A wrong answer: named in the summary, linked to its field, the rest kept.
            page.locator("#q-count").fill("three")
            page.locator("main form button[type=submit]").first.click()
            summary = page.locator(".error-summary")
            assert summary.get_by_role("link").first.get_attribute("href") == "#q-count"
            assert page.locator("#q-count").get_attribute("aria-invalid") == "true"
            page.screenshot(path=str(SHOTS / f"3-error.{lang}.{label}.png"), full_page=True)
            page.locator("#q-count").fill("3")
            page.locator("main form button[type=submit]").first.click()
            assert re.fullmatch(r"[0-9A-Z]{5}(-[0-9A-Z]{5}){4}", _token_on(page))
            context.close()
            overflow = _axe_pages(chromium, site, lang, viewport, axe_source)
            problems += [f"{lang} {label}: {item}" for item in overflow]
    assert problems == []


def _axe_pages(
    chromium: object, site: LiveServer, lang: str, viewport: dict[str, int], axe_source: str
) -> list[str]:
    """axe on both pages of the form and its error page (in a context where only the checker
    runs script), and no sideways scrolling."""
    context = _context(chromium, locale=lang, javascript=True, viewport=viewport)
    page = context.new_page()
    found: list[str] = []

    def check(name: str) -> None:
        found.extend(f"{name}: {item}" for item in _serious_violations(page, axe_source))
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            found.append(f"{name}: scrolls sideways {overflow}px")

    page.goto(site.url + "/report")
    check("category")
    page.get_by_label(OTHER[lang]).check()
    page.locator("main form button[name=step][value=questions]").click()
    check("questions")
    page.locator("#q-count").fill("three")
    page.locator("main form button[type=submit]").first.click()
    check("error")
    context.close()
    return found
