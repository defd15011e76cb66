"""The organisation's identity and the token page in a real Chromium, JavaScript off.

On a phone (390 px) and a desktop (1280 px) the token never breaks inside a group, and a line
never ends on a dash; printed, the page shows the organisation's name and the address to come
back to, and nothing of the page's header. A reporter's page makes no request but its own
stylesheet: the logo travels inside the page. Screenshots go to test-artifacts/identity/.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from intake.accounts.organisation import KEY, Identity
from intake.config import load_settings
from intake.runtime import open_runtime
from intake.storage import db
from intake.storage.models import Setting
from tests.support.instance import quietline_environ
from tests.support.live import LiveServer, free_port
from tests.support.postgres import run_sync

playwright_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("QUIETLINE_TEST_CHROMIUM", "/usr/bin/chromium"))
SHOTS = ROOT / "test-artifacts" / "identity"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
NAME = "City of Riverside"
ADDRESS = "https://report.riverside.example/"


def _logo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (48, 48), (90, 45, 130)).save(out, format="PNG")
    return out.getvalue()


async def _store_identity(environ: dict[str, str]) -> None:
    runtime = open_runtime(load_settings(environ))
    identity = Identity(
        name_en=NAME, name_fr="Ville de Riverside", web_address=ADDRESS, accent="#5a2d82",
        logo_type="image/png", logo=_logo(),
    )  # fmt: skip
    try:
        async with db.transaction(runtime.sessions) as session:
            session.add(Setting(key=KEY, value=identity.stored()))
    finally:
        await runtime.close()


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
    base = tmp_path_factory.mktemp("identity")
    environ = quietline_environ(base / "live")
    server = LiveServer(data_dir=base / "live", port=free_port(), environ=environ)
    demo = server.command("demo")
    assert demo.returncode == 0, demo.stderr
    run_sync(_store_identity({**os.environ, **environ}))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("width", [390, 1280])
def test_the_token_never_breaks_inside_a_group_and_prints_with_the_name(
    chromium: object, site: LiveServer, width: int
) -> None:
    context = chromium.new_context(  # type: ignore[attr-defined]
        java_script_enabled=False, locale="en-CA", viewport={"width": width, "height": 900}
    )
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(site.url + "/report")
    page.get_by_label("Misuse of public money or contract-signing authority").check()
    page.locator("main form button[name=step][value=questions]").click()
    page.locator("#body").fill("The invoices of the parks depot were paid twice.")
    requested.clear()
    with page.expect_navigation():
        page.locator("main form button[type=submit]:not([name=step])").click()
    page.wait_for_load_state()

    # The token page asked for nothing but itself and the stylesheet: the logo is inside it.
    assert [url for url in requested if not url.startswith("data:")] == [
        site.url + "/report",
        site.url + "/static/quietline.css",
    ]
    assert page.title() == f"Your case token · {NAME}"
    assert page.locator("header.site .brand").inner_text().strip() == NAME
    assert page.locator("header.site .brand img.logo").is_visible()

    groups = page.locator(".token .group")
    assert groups.count() == 5
    height = groups.nth(0).bounding_box()["height"]
    for index in range(5):
        box = groups.nth(index).bounding_box()
        text = groups.nth(index).inner_text()
        assert box["height"] <= height * 1.2, (index, text, box)  # one line: not broken
        assert not text.endswith("-")  # a line may end after a group, never after a dash
    tops = {round(groups.nth(index).bounding_box()["y"]) for index in range(5)}
    assert len(tops) == 1, f"the token wraps at {width} px"
    box = page.locator(".token").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width  # no sideways scrolling
    come_back = page.locator(".come-back").inner_text()
    assert ADDRESS in come_back

    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"token-{width}.png"), full_page=True)
    page.emulate_media(media="print")
    assert page.locator(".print-only").is_visible()
    assert page.locator(".print-only").inner_text() == NAME
    assert not page.locator("header.site").is_visible()
    assert page.locator(".come-back").is_visible() and page.locator(".token").is_visible()
    page.screenshot(path=str(SHOTS / f"token-{width}-print.png"), full_page=True)
    context.close()
