"""Every sentence a person reads is translatable by construction, and French users read French.

The code check (intake/devtools/sentences.py) refuses a sentence shown without a mark; the
tests of the check give it small bad sources so that it is known to catch each form; the
answers of every refusal a reporter or staff member can reach are requested in French.
"""

from __future__ import annotations

import ast
import dataclasses
import html
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest

from intake import i18n
from intake.accounts import keyring
from intake.devtools import catalogs, sentences
from intake.storage import db
from intake.web.app import create_app
from tests.support import reports
from tests.support.instance import Instance
from tests.support.staffing import sign_in

FRENCH = {"accept-language": "fr-CA"}
REPORT = {"category": "financial", "body": "Invoices were paid twice."}
TYPO_TOKEN = "ABCDE-FGHJK-MNPQR-STVWX-YZ01"  # one character short
UNKNOWN_TOKEN = "ABCDE-FGHJK-MNPQR-STVWX-YZ01C"


# --- the code check ---------------------------------------------------------------------------


def test_no_sentence_a_person_reads_goes_unmarked() -> None:
    findings = sentences.scan()
    unexpected = [str(finding) for finding in findings if finding.key not in sentences.ALLOWED]
    assert not unexpected, "sentences shown without a mark:\n" + "\n".join(unexpected)


def test_the_allow_list_holds_only_sites_that_still_need_it() -> None:
    found = {finding.key for finding in sentences.scan()}
    stale = [key for key in sentences.ALLOWED if key not in found]
    assert not stale, f"allow-list entries that no longer match a finding: {stale}"
    unexplained = [key for key, why in sentences.ALLOWED.items() if not why.strip()]
    assert not unexplained, "each allowed site says where its sentence is marked"


BAD_SOURCES = {
    "plain literal": 'raise InvalidInput("The name is missing.")',
    "f-string": 'raise InvalidInput(f"At most {limit} files.")',
    "percent on a literal": 'raise InvalidInput("At most %d files." % limit)',
    "format on a literal": 'raise InvalidInput("At most {} files.".format(limit))',
    "mark around an f-string": 'raise InvalidInput(N_(f"At most {limit} files."))',
    "percent on a mark": 'raise InvalidInput(N_("At most %(n)s files.") % {"n": 3})',
    "unmarked constant": 'LIMIT = "Too many files."\nraise InvalidInput(LIMIT)',
    "subclass of a subclass": (
        "class Big(InvalidInput):\n    status = 413\nraise Big('The file is too big.')"
    ),
    "crypto token typo": 'raise TokenTypo("The token is too short.")',
    "keyword message": 'raise Forbidden(message="You may not do this.")',
    "phrase": 'Phrase("the body field")',
    "JSON error": 'JSONResponse({"error": "Nothing was found."}, status_code=404)',
    "JSON error from an f-string": 'JSONResponse({"error": f"No case {ref}."}, status_code=404)',
    "plain-text error": 'PlainTextResponse("Request too large.", status_code=413)',
    "page with visible text": 'HTMLResponse(f"<title>Error</title><p>{message}</p>")',
    "error page helper": 'error_response(request, 403, "You may not do this.")',
    "sentence to a template": 'render(request, "page.html", {"notice": "Your note was saved."})',
    "formatted sentence to a template": (
        'render(request, "page.html", {"notice": "Saved %s notes." % count})'
    ),
}
PREAMBLE = "class QuietlineError(Exception): pass\nclass InvalidInput(QuietlineError): pass\n"
PREAMBLE += "class Forbidden(QuietlineError): pass\n"


@pytest.mark.parametrize("source", BAD_SOURCES.values(), ids=list(BAD_SOURCES))
def test_the_check_catches_an_unmarked_sentence(source: str) -> None:
    findings = sentences.scan_source(PREAMBLE + source)
    assert len(findings) == 1, findings


GOOD_SOURCES = {
    "marked literal": 'raise InvalidInput(N_("At most %(limit)s files."), limit=3)',
    "marked constant": 'LIMIT = N_("Too many files.")\nraise InvalidInput(LIMIT)',
    "marked table": (
        'WHY = {"a": N_("One."), "b": N_("Two.")}\n'
        'raise InvalidInput(WHY[kind])\nraise InvalidInput(WHY.get(kind, N_("Other.")))'
    ),
    "choice of marks": 'raise InvalidInput(N_("One.") if x else N_("Two."))',
    "plural": 'raise InvalidInput(N_plural("%(num)s file.", "%(num)s files."), num=n)',
    "translated JSON": 'JSONResponse({"error": gettext(N_("Nothing was found."))})',
    "JSON data": 'JSONResponse({"token": token, "stage": "received"})',
    "page around translated text": (
        'HTMLResponse(f"<!doctype html><title>{title}</title><p>{html.escape(text)}</p>")'
    ),
    "template data": 'render(request, "page.html", {"case": case, "mode": "digest"})',
}


@pytest.mark.parametrize("source", GOOD_SOURCES.values(), ids=list(GOOD_SOURCES))
def test_the_check_accepts_marked_sentences(source: str) -> None:
    assert sentences.scan_source(PREAMBLE + source) == []


def test_the_real_code_would_be_caught_if_one_sentence_lost_its_mark() -> None:
    """Take the mark off one sentence of the code as it is: the check then finds it."""
    path = sentences.ROOT / "intake/web/middleware.py"
    source = path.read_text(encoding="utf-8")
    marked = 'N_("The request is too large: the limit is %(limit)s. Nothing was saved.")'
    assert marked in source
    unmarked = source.replace(marked, '"The request is too large. Nothing was saved."')
    tree = ast.parse(unmarked)
    errors = sentences.error_classes([tree, ast.parse(PREAMBLE)])
    findings = sentences.scan_tree(tree, "intake/web/middleware.py", errors)
    assert [finding.sentence for finding in findings] == [
        "The request is too large. Nothing was saved."
    ]


def _marked_error_sentences() -> set[str]:
    """The literal of every marked message given to a domain error in the code."""
    trees = [ast.parse(path.read_text(encoding="utf-8")) for path in sentences.python_files()]
    errors = sentences.error_classes(trees)
    found: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in errors:
                message = node.args[0] if node.args else None
                if isinstance(message, ast.Call) and getattr(message.func, "id", "") in {
                    "N_",
                    "N_plural",
                }:
                    first = message.args[0]
                    assert isinstance(first, ast.Constant)
                    found.add(first.value)
    return found


def test_every_marked_error_is_in_the_catalog_and_translated() -> None:
    catalog = catalogs.extract()
    ids = {
        message.id[0] if isinstance(message.id, tuple) else message.id
        for message in catalog
        if message.id
    }
    marked = _marked_error_sentences()
    assert len(marked) > 50
    assert not marked - ids
    french = i18n.translations("fr_CA")
    left_in_english = [
        sentence
        for sentence in marked
        if french.gettext(sentence) == sentence and french.ngettext(sentence, "", 1) == sentence
    ]
    assert not left_in_english


# --- sizes ------------------------------------------------------------------------------------


def test_sizes_are_written_in_the_language_shown() -> None:
    assert i18n.format_size(25_000_000, "en") == "25 MB"
    assert i18n.format_size(25_000_000, "fr_CA").replace("\u202f", " ").replace("\xa0", " ") == (
        "25 Mo"
    )
    assert "ko" in i18n.format_size(64_000, "fr_CA")


# --- French answers for every refusal ---------------------------------------------------------


def french(english: str) -> str:
    """The start of the French translation of ``english``, up to its first placeholder."""
    translated = i18n.translations("fr_CA").gettext(english)
    assert translated != english, f"not translated: {english}"
    # Pages and errors are compared with their spaces (non-breaking ones too) made plain.
    start = " ".join(translated.split("%(")[0].split())
    assert len(start) >= 8, english
    return start


def french_plural(singular: str, plural: str) -> str:
    translated = i18n.translations("fr_CA").ngettext(singular, plural, 2)
    assert translated != plural
    return " ".join(translated.split("%(")[0].split())


def page_text(answer: httpx.Response) -> str:
    assert answer.headers["content-type"].startswith("text/html"), answer.text[:200]
    assert '<html lang="fr-CA">' in answer.text
    return " ".join(html.unescape(answer.text).split())


def json_error(answer: httpx.Response) -> str:
    error: str = answer.json()["error"]
    return " ".join(error.split())


@asynccontextmanager
async def app_client(
    made: Instance, runtime_changes: dict[str, Any] | None = None, **changes: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A client for an app built with changed settings on the same instance."""
    settings = dataclasses.replace(made.settings, **changes)
    runtime = dataclasses.replace(made.runtime, settings=settings, **(runtime_changes or {}))
    app = create_app(settings, runtime=runtime)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            yield client


CROSS_SITE = (
    "This form was sent from another site, so it was refused and nothing was saved. Open the "
    "page on this site and send it from there."
)


async def test_403_cross_site_in_french(sqlite_client: httpx.AsyncClient) -> None:
    headers = {**FRENCH, "sec-fetch-site": "cross-site"}
    page = await sqlite_client.post("/report", data=REPORT, headers=headers)
    assert page.status_code == 403 and french(CROSS_SITE) in page_text(page)
    api = await sqlite_client.post("/api/v1/reports", json=REPORT, headers=headers)
    assert api.status_code == 403 and french(CROSS_SITE) in json_error(api)


async def test_429_in_french(sqlite_seeded: Instance) -> None:
    singular = (
        "Too many reports are arriving at the moment. Nothing was saved: please wait "
        "%(num)s second and try again."
    )
    plural = singular.replace("second and", "seconds and")
    async with app_client(sqlite_seeded, rate_submissions=1) as client:
        assert (await client.post("/api/v1/reports", json=REPORT)).status_code == 201
        api = await client.post("/api/v1/reports", json=REPORT, headers=FRENCH)
        assert api.status_code == 429 and int(api.headers["retry-after"]) >= 1
        assert french_plural(singular, plural) in json_error(api)
        assert "seconde" in json_error(api)
        page = await client.post("/report", data=REPORT, headers=FRENCH)
        assert page.status_code == 429 and french_plural(singular, plural) in page_text(page)
        english = await client.post("/api/v1/reports", json=REPORT)
        assert "Too many reports are arriving" in json_error(english)


async def test_429_password_change_lock_in_french(sqlite_seeded: Instance) -> None:
    locked = (
        "Too many wrong passwords were tried for this account, so it is locked. Try again in "
        "%(minutes)s minutes, or ask an administrator."
    )
    async with app_client(sqlite_seeded) as client:
        officer = await sign_in(sqlite_seeded, client, "officer1@example.org")
        async with db.transaction(sqlite_seeded.runtime.sessions) as session:
            staff = await keyring.staff_by_email(session, officer.email)
            assert staff is not None
            staff.locked_until = sqlite_seeded.clock.now() + timedelta(minutes=10)
            session.add(staff)
        refused = await client.post(
            "/api/v1/staff/password",
            json={"current": "correct horse battery staple", "new": "a brand new one 42"},
            headers={**officer.headers, **FRENCH},
        )
        assert refused.status_code == 429
        assert french(locked) % {"minutes": 10} in json_error(refused)


async def test_413_in_french_with_french_units(sqlite_seeded: Instance) -> None:
    async with app_client(
        sqlite_seeded, attachment_max_files=1, attachment_max_file_bytes=2_000_000
    ) as client:
        files = [("files", ("a.txt", b"a", "text/plain")), ("files", ("b.txt", b"b", "text/plain"))]
        page = await client.post("/report", data=REPORT, files=files, headers=FRENCH)
        assert page.status_code == 413
        too_many = (
            "Too many files: at most %(limit)s files can be sent with one report or message. "
            "Nothing was saved; please choose fewer files."
        )
        assert french(too_many) in page_text(page)
        big = [("files", ("big.txt", b"x" * 2_100_000, "text/plain"))]
        api = await client.post(
            "/api/v1/reports",
            data={"report": '{"category": "financial", "body": "x"}'},
            files=big,
            headers=FRENCH,
        )
        assert api.status_code == 413
        error = json_error(api).replace("\u202f", " ").replace("\xa0", " ")
        assert error.startswith("Le fichier « big.txt » est trop volumineux")
        assert "2 Mo" in error and "MB" not in error
        # The page's hint shows the limits in French units too.
        form = await reports.questions_page(client, **FRENCH)
        assert "Mo" in page_text(form) and " MB" not in page_text(form)
    async with app_client(sqlite_seeded, max_request_bytes=2_000) as client:
        body = {"token": "x" * 5_000}
        api = await client.post("/api/v1/reports/status", json=body, headers=FRENCH)
        assert api.status_code == 413
        too_large = "The request is too large: the limit is %(limit)s. Nothing was saved."
        assert french(too_large) in json_error(api) and "ko" in json_error(api)


async def test_404_422_400_in_french(sqlite_client: httpx.AsyncClient) -> None:
    missing = await sqlite_client.get("/nowhere", headers=FRENCH)
    assert missing.status_code == 404 and french("There is no such page.") in page_text(missing)
    unknown = await sqlite_client.post(
        "/api/v1/reports/status", json={"token": UNKNOWN_TOKEN}, headers=FRENCH
    )
    assert unknown.status_code in (404, 422)
    assert json_error(unknown).startswith(("Aucun signalement", "Un caractère du code"))
    typo = await sqlite_client.post(
        "/api/v1/reports/status", json={"token": TYPO_TOKEN}, headers=FRENCH
    )
    assert typo.status_code == 422 and json_error(typo).startswith("Le code doit comporter")
    typo_page = await sqlite_client.post("/status", data={"token": TYPO_TOKEN}, headers=FRENCH)
    assert typo_page.status_code == 422 and "Le code doit comporter" in page_text(typo_page)
    invalid = await sqlite_client.post(
        "/api/v1/reports/status", json={"token": 5, "extra": 1}, headers=FRENCH
    )
    assert invalid.status_code == 422
    assert json_error(invalid) == (
        "Requête invalide : token : du texte est attendu ; extra : ce champ n'est pas attendu."
    )
    english = await sqlite_client.post("/api/v1/reports/status", json={"extra": 1})
    assert json_error(english) == (
        "Invalid request: token: this field is required; extra: this field is not expected."
    )
    not_json = await sqlite_client.post(
        "/api/v1/reports/status", content=b"{", headers={**FRENCH, "content-type": "text/plain"}
    )
    assert not_json.status_code == 400
    assert french("Send the request as JSON (Content-Type: application/json).") in json_error(
        not_json
    )
    bad_upload = await sqlite_client.post(
        "/report", content=b"--x--", headers={**FRENCH, "content-type": "multipart/form-data"}
    )
    assert bad_upload.status_code == 400
    assert french("The upload has no multipart boundary.") in page_text(bad_upload)


async def test_api_form_descriptions_in_french(sqlite_client: httpx.AsyncClient) -> None:
    form = (await sqlite_client.get("/api/v1/form", headers=FRENCH)).json()
    assert form["kinds"]["report"] == french("A concern about wrongdoing")
    assert form["routing"]["involves_office"].startswith("Choisissez ceci")


async def test_what_cleaning_did_to_a_file_is_told_in_french(sqlite_seeded: Instance) -> None:
    """The notes on each file (what it is, why it was not cleaned, what to do) are stored as
    message ids and shown in the reader's language, on the page and in the API."""
    async with app_client(sqlite_seeded) as client:
        files = [("files", ("notes.txt", b"plain words", "text/plain"))]
        page = await client.post("/report", data=REPORT, files=files, headers=FRENCH)
        assert page.status_code == 201
        cannot = "Quietline cannot remove hidden details from this kind of file."
        assert french(cannot) in page_text(page) and cannot not in page_text(page)
        api = await client.post(
            "/api/v1/reports", data={"report": '{"category": "financial", "body": "x"}'},
            files=[("files", ("photo.jpg", b"not a photo at all", "image/jpeg"))],
            headers=FRENCH,
        )
        assert api.status_code == 201
        outcome = api.json()["attachments"][0]
        assert outcome["format"] == french("file of another kind")
        problem = outcome["problem"]
        assert problem.startswith(
            french(
                "It does not look like a %(format)s, so it could not be cleaned. "
                "It was kept exactly as sent."
            )
        )
        assert french("JPEG image") in problem and "JPEG image" not in problem
        english = await client.post(
            "/api/v1/reports", data={"report": '{"category": "financial", "body": "x"}'},
            files=[("files", ("photo.jpg", b"not a photo at all", "image/jpeg"))],
        )
        assert english.json()["attachments"][0]["problem"].startswith(
            "It does not look like a JPEG image"
        )


async def test_a_form_starlette_cannot_parse_is_refused_in_french(
    sqlite_client: httpx.AsyncClient,
) -> None:
    """A staff form whose body Starlette's parser refuses: the answer is our sentence, in the
    reader's language, not the parser's English detail."""
    answer = await sqlite_client.post(
        "/staff/login",
        content=b"--x\r\nnot a part\r\n",
        headers={**FRENCH, "content-type": "multipart/form-data"},
    )
    assert answer.status_code == 400
    assert french("The request could not be read.") in page_text(answer)
    assert "boundary" not in page_text(answer).lower()
