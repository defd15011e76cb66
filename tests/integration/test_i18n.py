"""Languages: complete catalogs, the choice of language, and translated errors and guidance."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from intake import i18n
from intake.deadlines import DeadlineRules
from intake.devtools import catalogs
from intake.web.app import create_app
from tests.support.catalog_check import (
    catalog_sentences,
    typography_faults,
    typography_report,
    untranslated,
)
from tests.support.instance import SEED_STAFF, Instance
from tests.support.staffing import fresh_totp

PLACEHOLDER = re.compile(r"%\((\w+)\)s")
FRENCH = {"accept-language": "fr-CA,fr;q=0.9,en;q=0.5"}
OFFICER = "officer1@example.org"


def _entries(locale: str) -> dict[object, object]:
    from babel.messages.pofile import read_po

    with i18n.catalog_path(locale).open("rb") as source:
        catalog = read_po(source, locale=locale)
    return {message.id: message for message in catalog if message.id}


def test_there_is_a_french_catalog() -> None:
    assert i18n.available_locales() == ("en", "fr_CA")


@pytest.mark.parametrize("locale", i18n.available_locales()[1:])
def test_every_sentence_of_the_code_and_templates_is_translated(locale: str) -> None:
    """A sentence added to the code or a template without a translation fails here; the fix is
    `make translations`, then filling in the catalog."""
    translated = _entries(locale)
    missing, fuzzy, broken = [], [], []
    for message in catalogs.extract():
        if not message.id:
            continue
        entry = translated.get(message.id)
        strings = entry.string if entry else None
        if not entry or not all(strings if isinstance(strings, tuple) else (strings,)):
            missing.append(message.id)
            continue
        if entry.fuzzy:
            fuzzy.append(message.id)
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for text in strings if isinstance(strings, tuple) else (strings,):
            if set(PLACEHOLDER.findall(text)) != wanted:
                broken.append(message.id)
    assert missing == [] and fuzzy == [] and broken == []


def test_the_french_catalog_follows_french_typography() -> None:
    """A non-breaking space before « : », « ; », « ? », « ! » and inside guillemets, so that a
    line never starts with the mark; French units (« Mo »). The fix is in the .po file."""
    assert typography_report(catalog_sentences("fr_CA")) == {}


@pytest.mark.parametrize(
    ("french", "fault"),
    [
        ("Conclu : Renvoyé ailleurs", "before ':'"),  # an ordinary space: the line may break
        ("Conclu: Renvoyé ailleurs", "before ':'"),
        ("Que s'est-il passé?", "before '?'"),
        ("Rien n'a été enregistré; réessayez.", "before ';'"),
        ("Attention !", "before '!'"),
        ("l'étape « reçu »", "after «"),
        ("l'étape «\u00a0reçu »", "before »"),
        ("jusqu'à 50 MB par fichier", "English unit"),
    ],
)
def test_the_typography_check_finds_a_bad_entry(french: str, fault: str) -> None:
    assert any(fault in found for found in typography_faults(french)), french


@pytest.mark.parametrize(
    "french",
    [
        "Conclu\u00a0: Renvoyé ailleurs",
        "Que s'est-il passé\u202f?",
        "l'étape «\u00a0reçu\u00a0»",
        "jusqu'à 50\u00a0Mo par fichier",
        "Ouvrez http://exemple.onion/status?lang=fr à 12:30",
    ],
)
def test_the_typography_check_accepts_good_french(french: str) -> None:
    assert typography_faults(french) == []


def test_a_list_of_problems_is_separated_the_french_way() -> None:
    problems = i18n.Listing([i18n.Phrase("token"), i18n.Phrase("extra")])
    assert problems.localized("en") == "token; extra"
    assert problems.localized("fr_CA") == "token\u00a0; extra"


def test_the_catalog_template_is_in_step_with_the_code() -> None:
    from babel.messages.pofile import read_po

    with catalogs.TEMPLATE_FILE.open("rb") as source:
        template = {message.id for message in read_po(source) if message.id}
    assert template == {message.id for message in catalogs.extract() if message.id}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("fr-CA", "fr_CA"),
        ("fr", "fr_CA"),
        ("FR-ca;q=0.8, en;q=0.5", "fr_CA"),
        ("en-US,en;q=0.9,fr-CA;q=0.8", "en"),
        ("de-DE, fr-BE;q=0.7", "fr_CA"),
        ("fr;q=0, en", "en"),
        ("fr;q=nonsense", "en"),
        ("", "en"),
        ("*", "en"),
        ("x" * 5000, "en"),
    ],
)
def test_accept_language_is_negotiated(header: str, expected: str) -> None:
    assert i18n.negotiate(header) == expected


async def test_pages_follow_the_header_and_the_switch(sqlite_client: httpx.AsyncClient) -> None:
    english = await sqlite_client.get("/report")
    assert '<html lang="en">' in english.text and "Make a report" in english.text
    french = await sqlite_client.get("/report", headers=FRENCH)
    assert '<html lang="fr-CA">' in french.text and "Faire un signalement" in french.text
    assert french.headers["content-language"] == "fr-CA"
    # From the header, links stay plain; the switch leads to the page with ?lang=.
    assert 'action="/report"' in french.text and 'href="/report?lang=en"' in french.text

    switched = await sqlite_client.get("/report?lang=fr-CA")
    assert '<html lang="fr-CA">' in switched.text
    assert 'action="/report?lang=fr-CA"' in switched.text
    assert 'href="/status?lang=fr-CA"' in switched.text
    assert "set-cookie" not in switched.headers
    back = await sqlite_client.get("/report?lang=en", headers=FRENCH)
    assert '<html lang="en">' in back.text and 'href="/status?lang=en"' in back.text
    # An unknown language is ignored, never an error.
    unknown = await sqlite_client.get("/report?lang=xx-YY", headers=FRENCH)
    assert unknown.status_code == 200 and '<html lang="fr-CA">' in unknown.text


async def test_domain_errors_are_shown_in_french(sqlite_client: httpx.AsyncClient) -> None:
    typo = await sqlite_client.post(
        "/status", data={"token": "ABCDE-FGHJK-MNPQR-STVWX-YZ01"}, headers=FRENCH
    )
    assert typo.status_code == 422
    assert "Le code doit comporter 25 caractères\u00a0; vous en avez saisi 24." in typo.text
    too_long = await sqlite_client.post(
        "/report", data={"category": "financial", "body": "x" * 20_001}, headers=FRENCH
    )
    assert too_long.status_code == 422
    # Numbers are written the French way: a (non-breaking) space between thousands.
    assert re.search(r"20\s001 caractères, la limite est de 20\s000", too_long.text)
    assert 'aria-invalid="true"' in too_long.text and "body-error" in too_long.text
    missing = await sqlite_client.get("/nowhere", headers=FRENCH)
    assert missing.status_code == 404 and "Cette page n&#39;existe pas." in missing.text
    unknown = await sqlite_client.post(
        "/api/v1/reports/status", json={"token": "ABCDE-FGHJK-MNPQR-STVWX-YZ01C"}, headers=FRENCH
    )
    assert unknown.status_code in (404, 422)
    assert unknown.json()["error"].startswith(("Aucun signalement", "Un caractère du code"))
    # Without a header, the API answers in English, as before.
    english = await sqlite_client.post(
        "/api/v1/reports/status", json={"token": "ABCDE-FGHJK-MNPQR-STVWX-YZ01"}
    )
    assert english.json()["error"] == "The token should have 25 characters; you typed 24."


async def test_the_token_page_needs_the_saved_confirmation(
    sqlite_client: httpx.AsyncClient,
) -> None:
    filed = await sqlite_client.post("/report", data={"category": "other", "body": "Facts."})
    token = re.search(r'id="token-copy"[^>]* value="([0-9A-Z-]+)"', filed.text).group(1)
    assert 'name="saved"' in filed.text and "required" in filed.text
    again = await sqlite_client.post("/report/saved", data={"token": token})
    assert again.status_code == 422
    assert f'value="{token}"' in again.text and 'aria-invalid="true"' in again.text
    done = await sqlite_client.post("/report/saved", data={"token": token, "saved": "yes"})
    assert done.status_code == 200 and "Thank you for speaking up" in done.text
    assert token not in done.text
    # Anything but a well-formed token is never echoed back.
    forged = await sqlite_client.post("/report/saved", data={"token": "<b>hello</b>"})
    assert forged.status_code == 422 and "hello" not in forged.text


async def test_guidance_shows_the_deadlines_from_the_settings(sqlite_seeded: Instance) -> None:
    settings = replace(
        sqlite_seeded.settings, ack_days=5, feedback_months=2, deadline_clock="business"
    )
    # The starting rules a runtime opened with these settings holds, and no administrator's.
    rules = DeadlineRules.from_values(
        ack_days=5, feedback_months=2, clock="business", holidays=settings.holidays
    )
    runtime = replace(sqlite_seeded.runtime, settings=settings, rules=rules)
    app = create_app(settings, runtime=runtime)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            english = await client.get("/guide/process")
            french = await client.get("/guide/process", headers=FRENCH)
    assert "within 5 business days of receipt" in english.text
    assert "within 2 months of the acknowledgement" in english.text
    assert "dans un délai de 5 jours ouvrables" in french.text


async def test_the_operator_replaces_a_guidance_page_per_language(
    sqlite_seeded: Instance, tmp_path: Path
) -> None:
    folder = tmp_path / "guidance"
    folder.mkdir()
    (folder / "other-channels.fr.html").write_text(
        "<p>Ombudsman de la Ville : 311. Délai : {{ ack_days }} jours.</p>", encoding="utf-8"
    )
    settings = replace(sqlite_seeded.settings, guidance_dir=folder)
    app = create_app(settings, runtime=replace(sqlite_seeded.runtime, settings=settings))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            french = await client.get("/guide/other-channels", headers=FRENCH)
            english = await client.get("/guide/other-channels")
            (folder / "other-channels.en.html").write_text("<p>Call 311.</p>", encoding="utf-8")
            edited = await client.get("/guide/other-channels")
            missing = await client.get("/guide/nothing-here")
    assert "<p>Ombudsman de la Ville : 311. Délai : 7 jours.</p>" in french.text
    assert "Les organismes externes" not in french.text
    assert "The ombudsman" in english.text
    assert "<p>Call 311.</p>" in edited.text and "The ombudsman" not in edited.text
    assert missing.status_code == 404


def test_a_new_language_is_a_catalog_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Dropping a catalog into the locale folder adds the language, with no code change."""
    folder = tmp_path / "locale"
    (folder / "es" / "LC_MESSAGES").mkdir(parents=True)
    (folder / "es" / "LC_MESSAGES" / "quietline.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Make a report"\nmsgstr "Hacer una denuncia"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(i18n, "LOCALE_DIR", folder)
    i18n.available_locales.cache_clear()
    i18n.translations.cache_clear()
    try:
        assert i18n.available_locales() == ("en", "es")
        assert i18n.negotiate("es-MX,en;q=0.5") == "es"
        i18n.use_locale("es")
        assert i18n.gettext("Make a report") == "Hacer una denuncia"
        assert i18n.gettext("Check a report") == "Check a report"
        assert i18n.display_name("es") == "Español"
    finally:
        i18n.use_locale("en")
        i18n.available_locales.cache_clear()
        i18n.translations.cache_clear()


async def test_reporter_pages_in_french_leave_no_catalog_sentence_in_english(
    sqlite_client: httpx.AsyncClient,
) -> None:
    sentences = catalog_sentences()
    pages = {}
    for path in ("/", "/guide/process", "/guide/anonymity", "/guide/other-channels", "/report"):
        pages[path] = await sqlite_client.get(path, headers=FRENCH)
    pages["/status"] = await sqlite_client.get("/status", headers=FRENCH)
    filed = await sqlite_client.post(
        "/report", data={"category": "safety", "body": "Rapport."}, headers=FRENCH
    )
    pages["token page"] = filed
    token = re.search(r'id="token-copy"[^>]* value="([0-9A-Z-]+)"', filed.text).group(1)
    pages["status page"] = await sqlite_client.post(
        "/status", data={"token": token}, headers=FRENCH
    )
    pages["saved page"] = await sqlite_client.post(
        "/report/saved", data={"token": token, "saved": "yes"}, headers=FRENCH
    )
    for name, page in pages.items():
        assert '<html lang="fr-CA">' in page.text, name
        assert untranslated(page.text, sentences) == [], name
    # The check finds English where it is left: the same page in English is full of it.
    english = await sqlite_client.get("/report")
    assert len(untranslated(english.text, sentences)) > 10


async def test_staff_pages_in_french(
    sqlite_client: httpx.AsyncClient, sqlite_seeded: Instance
) -> None:
    client = sqlite_client
    sentences = catalog_sentences()
    filed = await client.post(
        "/report", data={"category": "conduct", "body": "Les heures supplémentaires."}
    )
    assert filed.status_code == 201
    login_page = await client.get("/staff/", headers=FRENCH)
    assert login_page.status_code == 401
    signed = await client.post(
        "/staff/login?lang=fr-CA",
        data={
            "email": OFFICER,
            "password": sqlite_seeded.staff_passwords[OFFICER],
            "totp": await fresh_totp(sqlite_seeded, OFFICER),
        },
    )
    # The redirect after signing in keeps the language that was switched to.
    assert signed.status_code == 303 and signed.headers["location"] == "/staff/?lang=fr-CA"
    queue = await client.get(signed.headers["location"])
    ref = re.search(r'href="/staff/cases/([^"?]+)\?lang=fr-CA"', queue.text).group(1)
    pages = {
        "sign-in": login_page,
        "queue": queue,
        "case": await client.get(f"/staff/cases/{ref}", headers=FRENCH),
        "record": await client.get("/staff/new", headers=FRENCH),
        "password": await client.get("/staff/password", headers=FRENCH),
    }
    for name, page in pages.items():
        assert page.status_code in (200, 401), name
        assert '<html lang="fr-CA">' in page.text, name
        # The seeded staff are named after their roles ("Investigator"): names are data.
        left = set(untranslated(page.text, sentences)) - {person[1] for person in SEED_STAFF}
        assert left == set(), name
    assert "File des dossiers" in queue.text and "quick-exit" not in queue.text
