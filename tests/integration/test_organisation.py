"""The organisation's identity: set by an administrator, checked, audited, and shown on every
page's title and header, on the token page (with the address to come back to), on the phone
report page, and at the foot of every email."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import struct
import zlib

import httpx
import pytest
from PIL import Image
from sqlalchemy import text

from intake.accounts import logo as logo_limit
from intake.storage.models import Setting
from tests.support.instance import Instance
from tests.support.staffing import StaffClient, sign_in

ADMIN = "admin@example.org"
OFFICER = "officer1@example.org"
ONION = "a" * 56 + ".onion"
FRENCH = {"accept-language": "fr-CA"}
IDENTITY = {
    "name_en": "City of Riverside",
    "name_fr": "Ville de Riverside",
    "description_en": "The City Solicitor's disclosure office",
    "description_fr": "Le bureau des divulgations de l'avocat de la Ville",
    "contact_en": "Or call the ombudsman at 311",
    "contact_fr": "Ou appelez l'ombudsman au 311",
    "web_address": "https://report.riverside.example/",
    "onion_address": ONION,
    "accent": "#5a2d82",
}


def png(size: int = 24, colour: tuple[int, int, int] = (90, 45, 130)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(out, format="PNG")
    return out.getvalue()


def noisy_png(side: int) -> bytes:
    """A PNG that does not compress: random pixels."""
    import os

    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, format="PNG")
    return out.getvalue()


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 16), (20, 60, 90)).save(out, format="JPEG", quality=60)
    return out.getvalue()


def _title(page: httpx.Response) -> str:
    found = re.search(r"<title>(.*?)</title>", page.text, re.DOTALL)
    assert found, page.text[:300]
    return found.group(1)


async def _set(
    admin: StaffClient, fields: dict[str, str], logo: tuple[str, bytes, str] | None = None
) -> httpx.Response:
    files = {"logo": logo} if logo else {"logo": ("", b"", "application/octet-stream")}
    return await admin.http.post("/admin/identity", data=fields, files=files, headers=admin.headers)


async def _stored(made: Instance) -> str | None:
    async with made.runtime.sessions() as session:
        row = await session.get(Setting, "identity")
        return row.value if row else None


async def _identity_events(made: Instance) -> list[dict[str, object]]:
    async with made.runtime.sessions() as session:
        rows = (
            await session.exec(
                text("SELECT detail FROM auditevent WHERE action = 'admin.identity' ORDER BY seq")
            )
        ).all()
    return [json.loads(row[0]) for row in rows]


async def test_the_name_is_in_every_page_title_and_header(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    admin = await sign_in(seeded, client, ADMIN)
    saved = await _set(admin, IDENTITY, ("logo.png", png(), "image/png"))
    assert saved.status_code == 303, saved.text

    # Reporters' pages, the token page, an error page, in English and in French.
    token_page = await client.post(
        "/report", data={"category": "financial", "body": "The invoices were paid twice."}
    )
    assert token_page.status_code == 201, token_page.text
    for language, name in ((None, "City of Riverside"), (FRENCH, "Ville de Riverside")):
        for path in ("/", "/report", "/status", "/guide/process", "/no-such-page"):
            page = await client.get(path, headers=language)
            assert _title(page).endswith(f"· {name}"), (path, _title(page))
            assert 'class="brand" href' in page.text and name in page.text
            assert 'src="data:image/png;base64,' in page.text  # the logo, inside the page
    assert _title(token_page).endswith("· City of Riverside")
    # No page title says the same thing twice.
    home = await client.get("/")
    assert _title(home).count("Report a concern") == 1

    # Staff and administration pages.
    staff_paths = ["/staff/", "/staff/stats", "/staff/audit", "/staff/directory",
                   "/staff/password", "/staff/notifications"]  # fmt: skip
    admin_paths = ["/admin/", "/admin/staff", "/admin/groups", "/admin/categories",
                   "/admin/deadlines", "/admin/identity"]  # fmt: skip
    for path in staff_paths + admin_paths:
        page = await admin.get(path)
        assert page.status_code == 200, (path, page.status_code)
        assert _title(page).endswith("· City of Riverside"), (path, _title(page))
    client.cookies.clear()
    login = await client.get("/staff/login", headers=FRENCH)
    assert _title(login).endswith("· Ville de Riverside")
    officer = await sign_in(seeded, client, OFFICER)
    assert _title(await officer.get("/staff/new")).endswith("· City of Riverside")
    queue = await officer.get("/staff/")
    ref = re.search(r'href="/staff/cases/([^"?]+)"', queue.text).group(1)
    case = await officer.get(f"/staff/cases/{ref}")
    assert _title(case).endswith("· City of Riverside")

    # The footer says whose service it is, with the contact line.
    assert "The City Solicitor&#39;s disclosure office" in home.text
    assert "Or call the ombudsman at 311" in home.text


async def test_the_token_page_gives_the_address_to_come_back_to_and_prints_the_name(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    admin = await sign_in(seeded, client, ADMIN)
    assert (await _set(admin, IDENTITY)).status_code == 303
    client.cookies.clear()
    page = await client.post(
        "/report", data={"category": "financial", "body": "The invoices were paid twice."}
    )
    assert page.status_code == 201
    assert '<p class="print-only">City of Riverside</p>' in page.text
    come_back = re.search(r'<div class="come-back">(.*?)</div>', page.text, re.DOTALL).group(1)
    assert "https://report.riverside.example/" in come_back
    assert f"http://{ONION}/" in come_back
    # The token: a line may break only between its groups, before a dash.
    groups = re.findall(r'<span class="group">(.*?)</span>(?=<span class="group">|</p>)',
                        page.text)  # fmt: skip
    assert len(groups) == 5
    assert all(group.count("-") == (0 if index == 0 else 1) for index, group in enumerate(groups))
    # The stylesheet shows the name only on paper, and hides the page's header there.
    css = (await client.get("/static/quietline.css")).text
    printed = css[css.index("@media print") :]
    assert ".print-only { display: block" in printed and "header.site" in printed
    assert ".print-only { display: none; }" in css[: css.index("@media print")]


async def test_the_phone_report_page_shows_the_address(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    admin = await sign_in(seeded, client, ADMIN)
    assert (await _set(admin, IDENTITY)).status_code == 303
    officer = await sign_in(seeded, client, OFFICER)
    recorded = await officer.http.post(
        "/staff/new",
        data={"channel": "phone", "category": "financial", "body": "Told on the phone."},
        headers=officer.headers,
    )
    assert recorded.status_code in (200, 201), recorded.text[:500]
    assert "at this address" in recorded.text
    assert "https://report.riverside.example/" in recorded.text
    assert "this service's address" not in recorded.text


@pytest.mark.parametrize(
    ("logo", "said"),
    [
        (("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>x()</script></svg>',
          "image/svg+xml"), "SVG and other drawings are not accepted"),
        (("logo.png", b"GIF89a this is not a logo at all", "image/png"), "could not be read"),
        (("logo.png", png() + b"<?php junk after the end ?>", "image/png"), "could not be read"),
        (("logo.png", png()[:-20] + b"\x00" * 20, "image/png"), "could not be read"),
        (("logo.jpg", jpeg() + b"trailing", "image/jpeg"), "could not be read"),
        (("logo.png", noisy_png(64), "image/png"), "too large"),
    ],
    ids=["svg", "not-an-image", "png-trailing-junk", "png-damaged", "jpeg-trailing", "too-big"],
)  # fmt: skip
async def test_a_bad_logo_is_refused_clearly_and_nothing_changes(
    client: httpx.AsyncClient, seeded: Instance, logo: tuple[str, bytes, str], said: str
) -> None:
    admin = await sign_in(seeded, client, ADMIN)
    assert (await _set(admin, IDENTITY, ("logo.png", png(), "image/png"))).status_code == 303
    before, events = await _stored(seeded), await _identity_events(seeded)
    refused = await _set(admin, {**IDENTITY, "name_en": "Changed City"}, logo)
    assert refused.status_code == 422
    assert said in refused.text
    assert (
        'id="logo" name="logo" type="file"' in refused.text
        and 'aria-invalid="true"' in refused.text
    )
    assert await _stored(seeded) == before
    assert await _identity_events(seeded) == events


async def test_a_low_contrast_colour_is_refused_and_a_good_one_is_used_by_hash(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    admin = await sign_in(seeded, client, ADMIN)
    assert (await _set(admin, IDENTITY)).status_code == 303
    before = await _stored(seeded)
    for pale in ("#ffd700", "#9ab8d0", "#777777"):
        refused = await _set(admin, {**IDENTITY, "accent": pale})
        assert refused.status_code == 422
        assert "too light to read" in refused.text and "4.5 to 1" in refused.text
        assert await _stored(seeded) == before
    nonsense = await _set(admin, {**IDENTITY, "accent": "purple"})
    assert nonsense.status_code == 422 and "six hexadecimal digits" in nonsense.text
    # The colour in force reaches the page as one inline style, allowed by its hash only.
    page = await client.get("/")
    style = re.search(r"<style>(.*?)</style>", page.text).group(1)
    assert style == ":root{--accent:#5a2d82}"
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    policy = page.headers["content-security-policy"]
    assert f"style-src 'self' 'sha256-{digest}';" in policy
    assert "img-src 'self' data:;" in policy and "script-src" not in policy
    assert "unsafe-inline" not in policy


async def test_addresses_and_texts_are_checked(client: httpx.AsyncClient, seeded: Instance) -> None:
    admin = await sign_in(seeded, client, ADMIN)
    cases = [
        ({"web_address": "javascript:alert(1)"}, "must be a whole address"),
        ({"web_address": "https://user:pw@example.org/"}, "must be a whole address"),
        ({"onion_address": "example.onion"}, "v3 onion address"),
        ({"name_en": "x" * 101}, "too long"),
    ]
    for change, said in cases:
        refused = await _set(admin, {**IDENTITY, **change})
        assert refused.status_code == 422 and said in refused.text, change
    assert await _stored(seeded) is None


async def test_a_change_is_audited_with_before_and_after(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    admin = await sign_in(seeded, client, ADMIN)
    assert (await _set(admin, IDENTITY, ("logo.jpg", jpeg(), "image/jpeg"))).status_code == 303
    assert (await _set(admin, {**IDENTITY, "name_en": "City of New Riverside"})).status_code == 303
    first, second = await _identity_events(seeded)
    assert "name_en" in first["changed"] and "logo" in first["changed"]
    assert first["after"]["logo"].startswith("sha256:")
    assert second["changed"] == "name_en"
    assert second["before"] == {"name_en": "City of Riverside"}
    assert second["after"] == {"name_en": "City of New Riverside"}
    # The kept JPEG carries no metadata segment, and removing the logo is a change too.
    stored = json.loads(await _stored(seeded))
    kept = base64.b64decode(stored["logo"])
    assert kept.startswith(b"\xff\xd8") and b"JFIF" not in kept
    Image.open(io.BytesIO(kept)).load()  # still an image a decoder reads
    removed = await _set(admin, {**IDENTITY, "remove_logo": "yes"})
    assert removed.status_code == 303
    assert json.loads(await _stored(seeded))["logo"] == ""
    # The audit page names the event.
    audit = await admin.get("/staff/audit")
    assert "Changed the organisation&#39;s identity" in audit.text


async def test_reporter_pages_stay_small_with_the_largest_identity(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    """Every reporter page stays under 16 KB with the longest texts and the largest logo."""
    admin = await sign_in(seeded, client, ADMIN)
    side, logo = 16, b""
    while True:  # the largest noisy PNG that is accepted
        candidate = noisy_png(side)
        if len(candidate) > logo_limit.MAX_BYTES:
            break
        logo, side = candidate, side + 1
    largest = {
        **IDENTITY,
        "name_en": "N" * 100, "name_fr": "M" * 100,
        "description_en": "D " * 150, "description_fr": "E " * 150,
        "contact_en": "C " * 150, "contact_fr": "F " * 150,
    }  # fmt: skip
    assert (await _set(admin, largest, ("logo.png", logo, "image/png"))).status_code == 303
    client.cookies.clear()
    token_page = await client.post(
        "/report", data={"category": "financial", "body": "The invoices were paid twice."}
    )
    pages = [token_page] + [
        await client.get(path, headers=language)
        for path in ("/", "/report", "/status", "/guide/process", "/guide/anonymity",
                     "/guide/other-channels")
        for language in (None, FRENCH)
    ]  # fmt: skip
    for page in pages:
        assert page.status_code in (200, 201)
        assert len(page.content) < 16 * 1024, (page.url, len(page.content))


def test_the_png_check_reads_every_chunk() -> None:
    from intake.accounts import logo

    good = png()
    assert logo.check(good).media_type == "image/png"
    # A chunk of text (author, software) is dropped from what is kept.
    ihdr_end = 8 + 25
    chunk = b"tEXtAuthor\x00Ada"
    text_chunk = struct.pack(">I", len(chunk) - 4) + chunk + struct.pack(">I", zlib.crc32(chunk))
    with_text = good[:ihdr_end] + text_chunk + good[ihdr_end:]
    kept = logo.check(with_text).data
    assert b"Author" not in kept and kept == logo.check(good).data


async def test_every_email_ends_with_the_organisation_name(sqlite_seeded: Instance) -> None:
    import asyncio
    import dataclasses
    import time

    from intake.web.app import create_app
    from tests.support.mail import FAST_MAIL
    from tests.support.reports import file_report

    settings = dataclasses.replace(sqlite_seeded.settings, **FAST_MAIL)
    runtime = dataclasses.replace(sqlite_seeded.runtime, settings=settings)
    app = create_app(settings, runtime=runtime)
    mail = settings.data_dir / "mail"
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            admin = await sign_in(sqlite_seeded, client, ADMIN)
            assert (await _set(admin, IDENTITY)).status_code == 303
            await file_report(client)
            deadline = time.monotonic() + 30
            while len(list(mail.glob("*.eml"))) < 4:
                assert time.monotonic() < deadline, "no notice was written"
                await asyncio.sleep(0.05)
    for path in mail.glob("*.eml"):
        body = path.read_text()
        assert (
            "-- \nCity of Riverside · Ville de Riverside\nhttps://report.riverside.example/" in body
        )


def _saved(image: Image.Image, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, **options)
    return out.getvalue()


@pytest.mark.parametrize(
    "made",
    [
        lambda: _saved(Image.new("P", (20, 20)), format="PNG", transparency=0),
        lambda: _saved(Image.new("LA", (20, 20)), format="PNG"),
        lambda: _saved(Image.new("I;16", (20, 20)), format="PNG"),
        lambda: _saved(Image.new("1", (21, 20)), format="PNG"),
        lambda: _saved(Image.new("RGB", (40, 40), (9, 9, 9)), format="JPEG", progressive=True),
        lambda: _saved(Image.new("L", (40, 40), 9), format="JPEG"),
        lambda: _saved(Image.new("CMYK", (40, 40)), format="JPEG"),
    ],
    ids=["png-palette", "png-grey-alpha", "png-16-bit", "png-1-bit", "jpeg-progressive",
         "jpeg-grey", "jpeg-cmyk"],
)  # fmt: skip
def test_common_logos_are_accepted_and_stay_readable(made: object) -> None:
    from intake.accounts import logo

    kept = logo.check(made()).data  # type: ignore[operator]
    Image.open(io.BytesIO(kept)).load()
