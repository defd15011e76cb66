"""The reporter's pages in a real headless Chromium, against a real server.

Every journey runs with JavaScript disabled, as in Tor Browser's safest mode. Accessibility is
checked with axe-core (installed from the npm registry under tests/browser/) in a separate
context where JavaScript runs for the checker only: the pages themselves carry no script. Each
page is also photographed at desktop, 200% zoom and phone widths into test-artifacts/.

Chromium is Debian's (/usr/bin/chromium): Playwright never downloads a browser here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pyotp
import pytest

from tests.support import reports
from tests.support.catalog_check import catalog_sentences, untranslated
from tests.support.instance import quietline_environ
from tests.support.live import LiveServer, free_port

playwright_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("QUIETLINE_TEST_CHROMIUM", "/usr/bin/chromium"))
AXE = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    # 200% zoom of a 1280 px window: the layout sees 640 CSS pixels.
    "zoom200": {"viewport": {"width": 640, "height": 450}, "device_scale_factor": 2},
    "phone": {"viewport": {"width": 375, "height": 740}, "device_scale_factor": 2},
}
JOURNEY_TEXT = "The fleet card of the parks department paid for fuel on a Sunday, twice."
REPORT_TEXT = "The fleet card was used for a private trip on the first weekend of the month."


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    if not CHROMIUM.exists():
        if os.environ.get("QUIETLINE_TEST_REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium is required but missing at {CHROMIUM}")
        pytest.skip(f"Chromium is not installed at {CHROMIUM}")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real server with a demo office (staff and a recovery key), so reports are accepted."""
    base = tmp_path_factory.mktemp("browser")
    server = LiveServer(
        data_dir=base / "live", port=free_port(), environ=quietline_environ(base / "live")
    )
    demo = server.command("demo")
    assert demo.returncode == 0, demo.stderr
    server.demo_output = demo.stdout  # type: ignore[attr-defined]
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing: run `npm ci --prefix tests/browser` (looked for {AXE})")
    return AXE.read_text(encoding="utf-8")


def _context(chromium: object, *, locale: str = "en-CA", javascript: bool = False, **options):
    return chromium.new_context(  # type: ignore[attr-defined]
        java_script_enabled=javascript,
        locale=locale,
        # axe is injected as a script, which the pages' CSP forbids: only the checker's context
        # bypasses it, and that context never files anything a person would.
        bypass_csp=javascript,
        **options,
    )


def _watch_hosts(page: object, site: LiveServer) -> list[str]:
    """Every request the page makes that goes anywhere but the server under test."""
    elsewhere: list[str] = []
    expected = urlsplit(site.url).netloc

    def check(request: object) -> None:
        url = request.url  # type: ignore[attr-defined]
        if not url.startswith(("data:", "about:")) and urlsplit(url).netloc != expected:
            elsewhere.append(url)

    page.on("request", check)  # type: ignore[attr-defined]
    return elsewhere


def _office_session(site: LiveServer) -> httpx.Client:
    """An officer of the demo office, signed in through the staff API (password and TOTP)."""
    found = re.search(
        r"staff officer@example\.org \(officer, group solicitor\): password (\S+)\s+"
        r"TOTP secret (\S+)",
        site.demo_output,  # type: ignore[attr-defined]
    )
    assert found, "the demo output names no officer"
    http = httpx.Client(base_url=site.url, timeout=30)
    signed = http.post(
        "/api/v1/staff/login",
        json={
            "email": "officer@example.org",
            "password": found.group(1),
            "totp": pyotp.TOTP(found.group(2)).now(),
        },
    )
    assert signed.status_code == 200, signed.text
    http.headers["X-CSRF-Token"] = signed.json()["csrf"]
    return http


@pytest.fixture(scope="module")
def office(site: LiveServer) -> Iterator[httpx.Client]:
    http = _office_session(site)
    try:
        yield http
    finally:
        http.close()


def _case_about(http: httpx.Client, text: str) -> str:
    """The reference of the case whose report contains ``text`` (staff never see tokens)."""
    listed = http.get("/api/v1/cases", params={"limit": "200"})
    assert listed.status_code == 200, listed.text
    for row in listed.json()["cases"]:
        view = http.get(f"/api/v1/cases/{row['ref']}").json()
        if text in json.dumps(view["report"]):
            return str(row["ref"])
    raise AssertionError("no case holds that report")


def _office_replies(http: httpx.Client, about: str, body: str) -> None:
    ref = _case_about(http, about)
    answer = http.post(f"/api/v1/cases/{ref}/messages", json={"body": body})
    assert answer.status_code == 201, answer.text


def _office_reads(http: httpx.Client, about: str) -> list[str]:
    view = http.get(f"/api/v1/cases/{_case_about(http, about)}").json()
    return [message["body"] for message in view["messages"]]


def _token_on(page: object) -> str:
    shown = page.locator(".token").inner_text()  # type: ignore[attr-defined]
    return re.sub(r"\s", "", shown)


# --- the journey a reporter takes, with JavaScript off --------------------------------------


def test_report_save_token_come_back_and_reply_without_javascript(
    chromium: object, site: LiveServer, office: httpx.Client
) -> None:
    context = _context(chromium)
    page = context.new_page()
    elsewhere = _watch_hosts(page, site)

    page.goto(site.url + "/")
    assert page.locator("a.quick-exit").is_visible()
    page.get_by_role("link", name="What happens to your report").click()
    assert page.get_by_role("heading", level=1).inner_text() == "What happens to your report"
    assert "within 7 days of receipt" in page.content()
    page.get_by_role("link", name="Next: Staying anonymous").click()
    with page.expect_navigation():
        page.get_by_role("link", name="Next: Anonymous or confidential?").click()
    assert "takes two people to open" in page.content()
    with page.expect_navigation():
        page.get_by_role("link", name="Next: Other places to report").click()
    assert "never required" in page.content()
    page.get_by_role("main").get_by_role("link", name="Make a report").click()

    # The form says plainly, before anything is sent, that a lost token cannot be recovered.
    warning = page.locator("#token-warning").inner_text()
    assert "shown only once" in warning and "Nobody can recover it" in warning
    page.get_by_label("Misuse of public money or contract-signing authority").check()
    page.get_by_role("button", name="Continue").click()
    # The second page: the category's questions, then the text.
    page.get_by_label("About how much money is involved?").fill("1 800")
    page.get_by_label("What happened?").fill(JOURNEY_TEXT)
    page.get_by_role("button", name="Send the report").click()

    assert page.get_by_role("heading", level=1).inner_text() == "Your report was received"
    token = _token_on(page)
    assert re.fullmatch(r"[0-9A-Z]{5}(-[0-9A-Z]{5}){4}", token)
    assert page.get_by_label("To copy it, select the text in this box:").input_value() == token
    # Leaving needs the confirmation: the browser's own form check holds it back, no script.
    page.get_by_role("button", name="Continue").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Your report was received"
    page.get_by_label("I have saved my case token").check()
    page.get_by_role("button", name="Continue").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Thank you for speaking up"

    # Days later: back with the token typed by hand, in small letters and without dashes.
    page.goto(site.url + "/")
    with page.expect_navigation():
        page.get_by_role("link", name="I have a token").click()
    page.get_by_label("Your case token").fill(token.replace("-", "").lower())
    with page.expect_navigation():
        page.get_by_role("button", name="Open").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Your report"
    assert "No messages yet." in page.content()

    # Meanwhile the office answers, through the staff API, knowing the case only by its ref.
    reply = "Thank you. Which vehicle was it? The plate number is enough."
    _office_replies(office, JOURNEY_TEXT, reply)

    page.goto(site.url + "/status")
    page.get_by_label("Your case token").fill(token)
    page.get_by_role("button", name="Open").click()
    from_office = page.locator("article.message.office")
    assert from_office.count() == 1 and reply in from_office.inner_text()
    assert from_office.get_by_role("heading").inner_text().startswith("From the office, ")

    page.get_by_label("Your message").fill("The van with plate CX 1234.")
    page.get_by_role("button", name="Send", exact=True).click()
    assert page.get_by_role("status").inner_text() == "Your message was sent to the office."
    messages = page.locator("article.message")
    assert messages.count() == 2
    assert reply in messages.nth(0).inner_text()
    assert "The van with plate CX 1234." in messages.nth(1).inner_text()
    assert _office_reads(office, JOURNEY_TEXT)[-1] == "The van with plate CX 1234."
    assert elsewhere == []
    context.close()


def test_a_typo_in_the_token_is_named_and_tied_to_the_field(
    chromium: object, site: LiveServer
) -> None:
    context = _context(chromium)
    page = context.new_page()
    page.goto(site.url + "/status")
    page.get_by_label("Your case token").fill("ABCDE-FGHJK-MNPQR-STVWX-YZ01U")
    page.get_by_role("button", name="Open").click()
    field = page.get_by_label("Your case token")
    assert field.get_attribute("aria-invalid") == "true"
    described = field.get_attribute("aria-describedby").split()
    message = page.locator(f"#{described[-1]}").inner_text()
    assert message == "The token contains 'U', which is never used in tokens."
    assert field.input_value() == "ABCDE-FGHJK-MNPQR-STVWX-YZ01U"
    context.close()


# --- languages -----------------------------------------------------------------------------


def _continue(page: object) -> None:
    """From the form's first page (the category) to its second."""
    page.locator("main form button[name=step][value=questions]").click()  # type: ignore[attr-defined]


def _send(page: object) -> None:
    """The form's second page sent (its first button; the other goes back)."""
    page.locator("main form button[type=submit]").first.click()  # type: ignore[attr-defined]


def _file_report(page: object, site: LiveServer, *, category: str, body: str) -> str:
    page.goto(site.url + "/report")  # type: ignore[attr-defined]
    page.get_by_label(category).check()  # type: ignore[attr-defined]
    _continue(page)
    page.locator("#body").fill(body)  # type: ignore[attr-defined]
    _send(page)
    return _token_on(page)


def test_french_from_accept_language_and_the_switch_works_without_javascript(
    chromium: object, site: LiveServer
) -> None:
    context = _context(chromium, locale="fr-CA")
    page = context.new_page()
    page.goto(site.url + "/")
    assert page.locator("html").get_attribute("lang") == "fr-CA"
    assert page.get_by_role("heading", level=1).inner_text().startswith("Signaler")
    token = _file_report(
        page,
        site,
        category="Danger pour la santé, la sécurité ou l'environnement",
        body="Les extincteurs du garage municipal ne sont plus inspectés.",
    )
    assert page.get_by_role("heading", level=1).inner_text() == "Votre signalement a été reçu"
    context.close()

    # An English browser (Tor Browser always asks for English) switches to French by a link.
    context = _context(chromium, locale="en-US")
    page = context.new_page()
    page.goto(site.url + "/")
    page.get_by_role("navigation", name="Language").get_by_role("link").click()
    assert page.locator("html").get_attribute("lang") == "fr-CA"
    # The choice is carried through links and form actions, with no cookie.
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Suivre un signalement"
    ).click()
    assert page.url.endswith("/status?lang=fr-CA")
    page.get_by_label("Votre code de suivi").fill(token)
    page.get_by_role("button", name="Ouvrir").click()
    assert page.locator("html").get_attribute("lang") == "fr-CA"
    assert page.get_by_role("heading", level=1).inner_text() == "Votre signalement"
    assert context.cookies() == []

    # On the status page the switch is a small form that carries the token: no token in a URL.
    page.get_by_role("navigation", name="Langue").get_by_role("button", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Your report"
    assert token not in page.url
    context.close()


# --- every reporter page: axe, screenshots, French ------------------------------------------


@dataclass
class Visit:
    name: str
    go: Callable[[object, str | None], None]


def _submit(page: object) -> None:
    page.locator("main form button[type=submit]").last.click()  # type: ignore[attr-defined]


def _tour(site: LiveServer, category: str, token_holder: dict[str, str]) -> list[Visit]:
    """Every reporter page, as a sequence of steps a person could take (no script needed)."""

    def goto(path: str) -> Callable[[object, str | None], None]:
        def go(page: object, lang: str | None) -> None:
            query = f"?lang={lang}" if lang else ""
            page.goto(f"{site.url}{path}{query}")  # type: ignore[attr-defined]

        return go

    def questions(page: object, lang: str | None) -> None:
        goto("/report")(page, lang)
        page.locator("input[name=category]").first.check()  # type: ignore[attr-defined]
        _continue(page)

    def form_error(page: object, lang: str | None) -> None:
        questions(page, lang)
        page.locator("#body").fill("   ")  # type: ignore[attr-defined]
        page.locator("#q-amount").fill("a lot")  # type: ignore[attr-defined]
        _send(page)

    def form_back(page: object, lang: str | None) -> None:
        questions(page, lang)
        page.locator("#body").fill(REPORT_TEXT)  # type: ignore[attr-defined]
        page.locator("main form button[name=step][value=back]").click()  # type: ignore[attr-defined]

    def token_page(page: object, lang: str | None) -> None:
        goto("/report")(page, lang)
        page.get_by_label(category).check()  # type: ignore[attr-defined]
        _continue(page)
        page.locator("#body").fill(REPORT_TEXT)  # type: ignore[attr-defined]
        _send(page)
        token_holder["token"] = _token_on(page)

    def token_unconfirmed(page: object, lang: str | None) -> None:
        token_page(page, lang)
        # A browser that ignores `required` posts the form unticked: the page comes back.
        page.locator("form.confirm").evaluate("form => form.noValidate = true")  # type: ignore[attr-defined]
        _submit(page)

    def saved(page: object, lang: str | None) -> None:
        token_page(page, lang)
        page.locator("form.confirm input[type=checkbox]").check()  # type: ignore[attr-defined]
        _submit(page)

    def status_typo(page: object, lang: str | None) -> None:
        goto("/status")(page, lang)
        page.locator("#token").fill("ABCDE-FGHJK-MNPQR-STVWX-YZ01U")  # type: ignore[attr-defined]
        _submit(page)

    def status(page: object, lang: str | None) -> None:
        goto("/status")(page, lang)
        page.locator("#token").fill(token_holder["token"])  # type: ignore[attr-defined]
        _submit(page)

    def status_message_sent(page: object, lang: str | None) -> None:
        status(page, lang)
        page.locator("#body").fill("One more detail: it happened twice.")  # type: ignore[attr-defined]
        _submit(page)

    def status_message_error(page: object, lang: str | None) -> None:
        status(page, lang)
        page.locator("#body").fill("  ")  # type: ignore[attr-defined]
        _submit(page)

    return [
        Visit("home", goto("/")),
        Visit("guide-process", goto("/guide/process")),
        Visit("guide-anonymity", goto("/guide/anonymity")),
        Visit("guide-confidential", goto("/guide/confidential")),
        Visit("guide-other-channels", goto("/guide/other-channels")),
        Visit("report", goto("/report")),
        Visit("report-questions", questions),
        Visit("report-error", form_error),
        Visit("report-back", form_back),
        Visit("token", token_page),
        Visit("token-unconfirmed", token_unconfirmed),
        Visit("saved", saved),
        Visit("status-form", goto("/status")),
        Visit("status-typo", status_typo),
        Visit("status", status),
        Visit("status-message-sent", status_message_sent),
        Visit("status-message-error", status_message_error),
        Visit("not-found", goto("/no-such-page")),
    ]


CATEGORY = {
    "en": "Danger to health, safety or the environment",
    "fr-CA": "Danger pour la santé, la sécurité ou l'environnement",
}


def test_no_serious_accessibility_violation_and_pages_reflow(
    chromium: object, site: LiveServer, axe_source: str
) -> None:
    """axe-core (WCAG 2.0/2.1 A and AA rules, best practices) on every page, in both languages,
    at desktop and phone width; and no sideways scrolling at 320 CSS pixels (WCAG 1.4.10)."""
    problems: list[str] = []
    for lang in ("en", "fr-CA"):
        for width, height in ((1280, 900), (320, 640)):
            context = _context(
                chromium, javascript=True, viewport={"width": width, "height": height}
            )
            page = context.new_page()
            token: dict[str, str] = {}
            for visit in _tour(site, CATEGORY[lang], token):
                visit.go(page, lang)
                page.add_script_tag(content=axe_source)
                result = page.evaluate(
                    """async () => {
                        const found = await axe.run(document, {resultTypes: ['violations']});
                        return found.violations
                            .filter(v => v.impact === 'serious' || v.impact === 'critical')
                            .map(v => ({id: v.id, impact: v.impact,
                                        nodes: v.nodes.map(n => n.target.join(' '))}));
                    }"""
                )
                for violation in result:
                    problems.append(f"{lang} {width}px {visit.name}: {json.dumps(violation)}")
                overflow = page.evaluate(
                    "() => document.documentElement.scrollWidth - window.innerWidth"
                )
                if overflow > 0:
                    problems.append(f"{lang} {width}px {visit.name}: scrolls sideways {overflow}px")
            context.close()
    assert problems == []


def _check_printed_token_page(page: object, path: Path) -> None:
    """Printed, the token page shows the token and how to keep it, and nothing else."""
    page.emulate_media(media="print")  # type: ignore[attr-defined]
    try:
        page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
        assert page.locator(".token").is_visible()  # type: ignore[attr-defined]
        for hidden in ("header.site", "footer.site", "form.confirm", "#token-copy"):
            assert not page.locator(hidden).is_visible(), hidden  # type: ignore[attr-defined]
    finally:
        page.emulate_media(media="screen")  # type: ignore[attr-defined]


def test_every_reporter_page_in_french_and_photographed(chromium: object, site: LiveServer) -> None:
    """With Accept-Language: fr-CA every page is in French (no English catalog sentence left),
    and each page at each width is written to test-artifacts/ for people to look at."""
    sentences = catalog_sentences()
    allowed_in_french: set[str] = set()
    shots = ARTIFACTS / "screenshots"
    if shots.exists():
        shutil.rmtree(shots)
    shots.mkdir(parents=True)
    problems: list[str] = []
    for lang, locale in (("en", "en-CA"), ("fr-CA", "fr-CA")):
        for label, options in VIEWPORTS.items():
            context = _context(chromium, locale=locale, **options)
            page = context.new_page()
            elsewhere = _watch_hosts(page, site)
            token: dict[str, str] = {}
            for visit in _tour(site, CATEGORY[lang], token):
                # The browser's Accept-Language alone chooses the language here: no ?lang=.
                visit.go(page, None)
                assert page.locator("html").get_attribute("lang") == lang, visit.name
                page.screenshot(
                    path=str(shots / f"{visit.name}.{lang}.{label}.png"), full_page=True
                )
                if visit.name == "token" and label == "desktop":
                    _check_printed_token_page(page, shots / f"token.{lang}.print.png")
                if lang == "fr-CA" and label == "desktop":
                    left = set(untranslated(page.content(), sentences)) - allowed_in_french
                    if left:
                        problems.append(f"{visit.name}: {sorted(left)}")
            assert elsewhere == []
            context.close()
    assert problems == []


def test_links_carry_the_switched_language_only_when_it_was_switched(
    chromium: object, site: LiveServer
) -> None:
    context = _context(chromium, locale="fr-CA")
    page = context.new_page()
    for switched in (False, True):
        page.goto(site.url + "/report" + ("?lang=fr-CA" if switched else ""))
        assert page.locator("html").get_attribute("lang") == "fr-CA"
        targets = [
            *[link.get_attribute("href") for link in page.locator("header nav a").all()],
            page.locator("main form").get_attribute("action"),
        ]
        own = [target for target in targets if target.startswith("/") and "lang=en" not in target]
        assert own and all(("lang=fr-CA" in target) == switched for target in own), targets
    context.close()
    answer = httpx.get(site.url + "/report", headers={"accept-language": "fr-CA,fr;q=0.9"})
    assert answer.headers["content-language"] == "fr-CA"


# --- the staff page "Directory changes" ------------------------------------------------------


def _staff_cookie(site: LiveServer, email: str) -> str:
    """The session cookie of a demo staff member, signed in once through the staff API (each
    TOTP time step signs in once; the browser contexts share the cookie)."""
    found = re.search(
        rf"staff {re.escape(email)} \([a-z]+, group [a-z]+\): password (\S+)\s+TOTP secret (\S+)",
        site.demo_output,  # type: ignore[attr-defined]
    )
    assert found, f"the demo output names no {email}"
    signed = httpx.post(
        f"{site.url}/api/v1/staff/login",
        json={"email": email, "password": found.group(1), "totp": pyotp.TOTP(found.group(2)).now()},
        timeout=30,
    )
    assert signed.status_code == 200, signed.text
    return signed.cookies["quietline_staff"]


def _serious_violations(page: object, axe_source: str) -> list[dict[str, object]]:
    page.add_script_tag(content=axe_source)  # type: ignore[attr-defined]
    found: list[dict[str, object]] = page.evaluate(  # type: ignore[attr-defined]
        """async () => {
            const found = await axe.run(document, {resultTypes: ['violations']});
            return found.violations
                .filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => ({id: v.id, impact: v.impact,
                            nodes: v.nodes.map(n => n.target.join(' '))}));
        }"""
    )
    return found


def test_an_officer_reads_and_approves_a_directory_change_without_javascript(
    chromium: object, site: LiveServer, axe_source: str
) -> None:
    """The page an officer approves a new colleague on: axe in both languages at desktop and
    phone width, and the Approve button working with JavaScript off."""
    added = site.command(
        "staff",
        "add",
        "--email",
        "nadia@example.org",
        "--name",
        "Nadia New",
        "--role",
        "officer",
        "--password-stdin",
        stdin="a long first password\n",
    )
    assert added.returncode == 0, added.stderr
    cookie = {"name": "quietline_staff", "value": _staff_cookie(site, "officer2@example.org")}
    problems: list[str] = []
    for lang in ("en", "fr-CA"):
        for width, height in ((1280, 900), (320, 640)):
            context = _context(
                chromium, javascript=True, viewport={"width": width, "height": height}
            )
            context.add_cookies([{**cookie, "url": site.url}])
            page = context.new_page()
            page.goto(f"{site.url}/staff/directory?lang={lang}")
            assert "Nadia New" in page.content()
            for violation in _serious_violations(page, axe_source):
                problems.append(f"{lang} {width}px: {json.dumps(violation)}")
            context.close()
    assert problems == []

    context = _context(chromium)
    context.add_cookies([{**cookie, "url": site.url}])
    page = context.new_page()
    page.goto(f"{site.url}/staff/directory")
    with page.expect_navigation():
        page.locator("section.change", has_text="Nadia New").get_by_role(
            "button", name="Approve"
        ).click()
    assert "takes effect once the others its rule names approve it" in page.content()
    assert "You have approved this change." in page.content()
    context.close()


# --- the audit log: the audit page and a case's history ---------------------------------------


AXE_SERIOUS = """async () => {
    const found = await axe.run(document, {resultTypes: ['violations']});
    return found.violations
        .filter(v => v.impact === 'serious' || v.impact === 'critical')
        .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}));
}"""


def test_the_audit_page_and_a_case_history_pass_axe_in_both_languages_without_script(
    chromium: object, site: LiveServer, axe_source: str, office: httpx.Client
) -> None:
    """The staff's audit pages, checked as the reporter pages are: axe (no serious or critical
    violation) in English and French at desktop and phone width, no sideways scrolling, and
    filtering with JavaScript off; each page is photographed into test-artifacts/."""
    category = office.get("/api/v1/form").json()["categories"][0]["id"]
    filed = office.post("/api/v1/reports", json={"category": category, "body": REPORT_TEXT})
    assert filed.status_code == 201, filed.text
    ref = _case_about(office, REPORT_TEXT)
    cookies = [
        {"name": name, "value": value, "url": site.url} for name, value in office.cookies.items()
    ]

    # Without script: the filter form narrows the list to the case, and the case page shows it.
    context = _context(chromium)
    context.add_cookies(cookies)  # type: ignore[attr-defined]
    page = context.new_page()
    elsewhere = _watch_hosts(page, site)
    page.goto(f"{site.url}/staff/audit")  # type: ignore[attr-defined]
    page.get_by_label("Case reference").fill(ref)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Show").click()  # type: ignore[attr-defined]
    rows = page.locator("table.audit tbody tr")  # type: ignore[attr-defined]
    assert rows.count() >= 1 and "Opened the case" in rows.first.inner_text()
    page.goto(f"{site.url}/staff/cases/{ref}")  # type: ignore[attr-defined]
    assert "Opened the case" in page.locator("#history ~ div table").inner_text()  # type: ignore[attr-defined]
    assert elsewhere == []
    context.close()

    problems: list[str] = []
    pages = {
        "audit": "/staff/audit",
        "audit-filtered": f"/staff/audit?kind=case.view&case={ref}",
        "audit-error": "/staff/audit?since=31-03-2026",
        "case-history": f"/staff/cases/{ref}",
    }
    for lang in ("en", "fr-CA"):
        for width, height in ((1280, 900), (320, 640)):
            context = _context(
                chromium, javascript=True, viewport={"width": width, "height": height}
            )
            context.add_cookies(cookies)  # type: ignore[attr-defined]
            page = context.new_page()
            for name, path in pages.items():
                joiner = "&" if "?" in path else "?"
                page.goto(f"{site.url}{path}{joiner}lang={lang}")  # type: ignore[attr-defined]
                shot = ARTIFACTS / "screenshots" / f"staff-{name}-{lang}-{width}.png"
                shot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(shot), full_page=True)  # type: ignore[attr-defined]
                page.add_script_tag(content=axe_source)  # type: ignore[attr-defined]
                for violation in page.evaluate(AXE_SERIOUS):  # type: ignore[attr-defined]
                    problems.append(f"{lang} {width}px {name}: {json.dumps(violation)}")
                overflow = page.evaluate(  # type: ignore[attr-defined]
                    "() => document.documentElement.scrollWidth - window.innerWidth"
                )
                if overflow > 0:
                    problems.append(f"{lang} {width}px {name}: scrolls sideways {overflow}px")
            context.close()
    assert problems == []


# --- concluding a case, searching one's cases, and the reporter reading the conclusion -------
# JavaScript off for what people do; axe-core (JavaScript on, in the checker's context only)
# finds no serious violation on these pages, in both languages, at desktop and phone width.


CLOSURE_REPORT = "The depot's fuel log shows deliveries on days the Lévis depot was closed."
CLOSURE_MESSAGE = "We confirmed the deliveries were recorded wrongly; the depot corrected them."
CLOSURE_WIDTHS = ((1280, 900), (390, 800))


@pytest.fixture(scope="module")
def closing_officer(office: httpx.Client) -> dict[str, str]:
    """The session cookie of the demo officer the office fixture signed in (a code signs in
    once, so the browser shares that session)."""
    return {"name": "quietline_staff", "value": str(office.cookies["quietline_staff"])}


def _ref_found(site: LiveServer, cookie: str) -> str:
    http = httpx.Client(base_url=site.url, cookies={"quietline_staff": cookie}, timeout=30)
    with http:
        found = http.get("/api/v1/cases/search", params={"q": "levis depot"})
        assert found.status_code == 200, found.text
        [case] = found.json()["cases"]
        return str(case["ref"])


@pytest.mark.slow
def test_concluding_searching_and_the_reporter_reading_the_conclusion(
    chromium: object, site: LiveServer, axe_source: str, closing_officer: dict[str, str]
) -> None:
    token = reports.file_report_to(site.url, {"category": "financial", "body": CLOSURE_REPORT})
    cookie = closing_officer
    ref = _ref_found(site, cookie["value"])

    # The officer, JavaScript off: acknowledge, choose the outcome, edit the draft, conclude.
    context = _context(chromium)
    context.add_cookies([{**cookie, "url": site.url}])  # type: ignore[attr-defined]
    page = context.new_page()  # type: ignore[attr-defined]
    page.goto(f"{site.url}/staff/cases/{ref}")
    page.get_by_role("button", name="Acknowledge receipt").click()
    page.get_by_label("Substantiated", exact=True).check()
    page.get_by_role("button", name="Continue: the message to the reporter").click()
    message = page.get_by_label("Message to the reporter")
    assert message.input_value().startswith("Thank you for your report.")
    message.fill("")
    page.get_by_label("Reason (kept with the case, not sent to the reporter)").fill("Checked.")
    with page.expect_navigation():
        page.get_by_role("button", name="Conclude").click()
    assert "write a message to them, or say why no message can be sent" in page.content()
    page.get_by_label("Message to the reporter").fill(CLOSURE_MESSAGE)
    with page.expect_navigation():
        page.get_by_role("button", name="Conclude").click()
    assert "The case is concluded." in page.content()
    page.goto(f"{site.url}/staff/")
    page.get_by_label("Search the words of your cases").fill("LEVIS fuel")
    with page.expect_navigation():
        page.get_by_role("button", name="Search", exact=True).click()
    assert page.get_by_role("link", name=ref).count() == 1
    context.close()  # type: ignore[attr-defined]

    # The reporter, JavaScript off, with the token.
    context = _context(chromium)
    page = context.new_page()  # type: ignore[attr-defined]
    page.goto(f"{site.url}/status")
    page.get_by_label("Your case token").fill(token)
    with page.expect_navigation():
        page.get_by_role("button", name="Open").click()
    content = page.content()
    assert CLOSURE_MESSAGE in content and "Concluded on" in content
    assert "What you reported was confirmed." in content and "Feedback due by" not in content
    context.close()  # type: ignore[attr-defined]

    problems: list[str] = []
    for lang in ("en", "fr-CA"):
        for width, height in CLOSURE_WIDTHS:
            context = _context(
                chromium, javascript=True, viewport={"width": width, "height": height}
            )
            context.add_cookies([{**cookie, "url": site.url}])  # type: ignore[attr-defined]
            page = context.new_page()  # type: ignore[attr-defined]
            # The queue page, which holds the search box, is left to the staff layout's checks.
            page.goto(f"{site.url}/staff/search?q=fuel&lang={lang}")
            _collect_problems(page, axe_source, f"{lang} {width}px search", problems)
            page.goto(f"{site.url}/status?lang={lang}")
            page.locator("#token").fill(token)
            page.locator("#token").press("Enter")
            page.wait_for_load_state()
            _collect_problems(page, axe_source, f"{lang} {width}px status", problems)
            context.close()  # type: ignore[attr-defined]
    assert problems == []


@pytest.mark.slow
def test_the_closing_page_passes_axe(
    chromium: object, site: LiveServer, axe_source: str, closing_officer: dict[str, str]
) -> None:
    reports.file_report_to(site.url, {"category": "financial", "body": "Levis depot: second."})
    cookie = closing_officer
    http = httpx.Client(base_url=site.url, cookies={"quietline_staff": cookie["value"]})
    with http:
        found = http.get("/api/v1/cases/search", params={"q": "second"}).json()["cases"]
        ref = found[0]["ref"]
        csrf = http.get("/api/v1/staff/me").json()["csrf"]
        acknowledged = http.post(
            f"/api/v1/cases/{ref}/stage",
            json={"stage": "acknowledged"},
            headers={"X-CSRF-Token": csrf},
        )
        assert acknowledged.status_code == 200, acknowledged.text
    problems: list[str] = []
    for lang in ("en", "fr-CA"):
        for width, height in CLOSURE_WIDTHS:
            context = _context(
                chromium, javascript=True, viewport={"width": width, "height": height}
            )
            context.add_cookies([{**cookie, "url": site.url}])  # type: ignore[attr-defined]
            page = context.new_page()  # type: ignore[attr-defined]
            page.goto(f"{site.url}/staff/cases/{ref}/conclude?outcome=referred&lang={lang}")
            _collect_problems(page, axe_source, f"{lang} {width}px conclude", problems)
            context.close()  # type: ignore[attr-defined]
    assert problems == []


def _collect_problems(page: object, axe_source: str, where: str, problems: list[str]) -> None:
    for violation in _serious_violations(page, axe_source):
        problems.append(f"{where}: {json.dumps(violation)}")
    overflow = page.evaluate(  # type: ignore[attr-defined]
        "() => document.documentElement.scrollWidth - window.innerWidth"
    )
    if overflow > 0:
        problems.append(f"{where}: scrolls sideways {overflow}px")
