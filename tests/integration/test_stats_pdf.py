"""The annual statistics as a PDF report for council: the year's figures with their charts, the
small-cell rule exactly as on the statistics page (a hidden cell shows its words, never its
count), in English and French, from the page, the API and the command line; bad input refused."""

from __future__ import annotations

import functools
import io
import os
import re
import subprocess
import sys

import anyio.to_thread
import httpx
import pikepdf
import pypdf

from intake.accounts import organisation
from tests.integration.test_stats import YEAR, _generate
from tests.support.instance import Instance, quietline_environ
from tests.support.staffing import fresh_totp, sign_in

OFFICER = "officer1@example.org"
SOCIAL_MEDIA = "Misuse of the city's social media accounts"


def _text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def _number(value: int, french: bool = False) -> str:
    return f"{value:,}".replace(",", " " if french else ",")  # text extraction reads a space


def _drawn_bars(pdf: bytes) -> int:
    """Filled rectangles on the pages: the charts' bars."""
    count = 0
    with pikepdf.open(io.BytesIO(pdf)) as document:
        for page in document.pages:
            for operands, operator in pikepdf.parse_content_stream(page):
                if str(operator) == "re":
                    count += 1
    return count


async def test_the_council_report_in_french_hides_small_cells_as_the_page_does(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    plans, _ = await _generate(seeded)
    officer = await sign_in(seeded, client, OFFICER)
    figures = (await officer.get("/api/v1/stats", {"year": str(YEAR)})).json()
    assert figures["by_category"]["social-media"] == "fewer than 5"  # 3 cases: a small cell

    answer = await client.get(
        "/api/v1/stats",
        params={"year": str(YEAR), "format": "pdf"},
        headers={**officer.headers, "Accept-Language": "fr"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert f'filename="quietline-{YEAR}.pdf"' in answer.headers["content-disposition"]
    text = _text(answer.content)
    assert "Quietline" in text and f"Signalements et résultats en {YEAR}" in text
    assert f"Signalements reçus {len(plans)}" in text  # the figure beside its label
    shown_any = False
    for label, key in (
        ("Enquêtes ouvertes", "investigations_started"),
        ("Conclu", "concluded"),
        ("Signalements ayant donné lieu à des mesures", "acted_on"),
    ):
        if isinstance(figures[key], int):
            assert f"{label} {_number(figures[key], french=True)}" in text, label
            shown_any = True
        else:
            assert f"{label} masqué" in text or f"{label} moins de 5" in text, label
    assert shown_any
    # The small cells: their words, never their counts.
    assert "moins de 5" in text and "« moins de 5 »" in text
    assert re.search(r"Juillet moins de 5", text)
    social = re.search(r"médias sociaux de la Ville (moins de 5|\d+)", text)
    assert social is not None and social.group(1) == "moins de 5", text
    hidden = [
        value
        for section in ("by_category", "by_month")
        for value in figures[section].values()
        if not isinstance(value, int)
    ]
    shown_bars = [
        value
        for section in ("by_category", "by_month", "concluded_by_outcome")
        for value in figures[section].values()
        if isinstance(value, int) and value > 0
    ]
    assert hidden and _drawn_bars(answer.content) == len(shown_bars)  # no bar for a hidden cell
    with pikepdf.open(io.BytesIO(answer.content)) as document:
        assert "/Author" not in document.docinfo


async def test_the_statistics_page_links_the_report_in_english_and_refuses_bad_input(
    sqlite_client: httpx.AsyncClient, sqlite_seeded: Instance
) -> None:
    made = sqlite_seeded
    await _generate(made)
    signed = await sqlite_client.post(
        "/staff/login",
        data={
            "email": OFFICER,
            "password": made.staff_passwords[OFFICER],
            "totp": await fresh_totp(made, OFFICER),
        },
    )
    assert signed.status_code == 303
    page = await sqlite_client.get("/staff/stats", params={"year": str(YEAR)})
    link = re.search(r'href="([^"]*format=pdf[^"]*)"', page.text)
    assert link is not None and "Report for council (PDF)" in page.text
    answer = await sqlite_client.get(link.group(1).replace("&amp;", "&"))
    assert answer.status_code == 200 and answer.content.startswith(b"%PDF-")
    text = _text(answer.content)
    assert f"Reports and outcomes in {YEAR}" in text and "Reports received by month" in text
    assert f"{SOCIAL_MEDIA} fewer than 5" in text and "July fewer than 5" in text
    assert "Quietline" in text  # no name set yet: the service's own

    await organisation.store(
        made.runtime,
        organisation.form_from(organisation.Identity(), name_en="City of Medicine Hat"),
        actor="test",
    )
    named = await sqlite_client.get(link.group(1).replace("&amp;", "&"))
    assert "City of Medicine Hat" in _text(named.content)

    for params in ({"year": "1999", "format": "pdf"}, {"year": str(YEAR), "format": "xlsx"}):
        refused = await sqlite_client.get("/staff/stats", params=params)
        assert refused.status_code == 422, params
        assert "Choose" in refused.text


async def test_the_api_refuses_an_unknown_format(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    officer = await sign_in(seeded, client, OFFICER)
    refused = await officer.get("/api/v1/stats", {"format": "html"})
    assert refused.status_code == 422 and "json, csv, pdf" in refused.json()["error"]
    future = await officer.get("/api/v1/stats", {"year": "2999", "format": "pdf"})
    assert future.status_code == 422


async def test_the_stats_command_writes_the_report_in_french(
    sqlite_seeded: Instance, tmp_path
) -> None:
    await _generate(sqlite_seeded)
    environ = {**os.environ, **quietline_environ(sqlite_seeded.settings.data_dir)}
    out = tmp_path / "council.pdf"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "intake.cli", "stats", "--year", str(YEAR), *args],
            capture_output=True, text=True, env=environ, timeout=120, check=False,
        )  # fmt: skip

    done = await anyio.to_thread.run_sync(
        functools.partial(run, "--format", "pdf", "--out", str(out), "--lang", "fr-CA")
    )
    assert done.returncode == 0, done.stderr
    text = _text(out.read_bytes())
    assert "Signalements reçus par mois" in text and "Juillet moins de 5" in text
    again = await anyio.to_thread.run_sync(
        functools.partial(run, "--format", "pdf", "--out", str(out))
    )
    assert again.returncode == 2 and "exists already" in again.stderr
    no_file = await anyio.to_thread.run_sync(functools.partial(run, "--format", "pdf"))
    assert no_file.returncode == 2 and "--out FILE" in no_file.stderr
