"""The case export as a PDF: it opens in PDF libraries, holds the case's text with labels (never
the stored values), in the reader's language; lists the files and shows the images; holds no
token; names no one in its metadata; and is audited like the HTML export, with its format."""

from __future__ import annotations

import functools
import io
import json
import logging
import os
import re
import subprocess
import sys
from datetime import date

import anyio.to_thread
import httpx
import pikepdf
import pypdf
import pytest
from PIL import Image
from sqlmodel import col, select

import crypto
from intake.accounts import keyring
from intake.casework import export
from intake.storage.models import AuditEvent
from intake.web.pdf import case as case_pdf
from tests.support.attachment_files import png_with_text
from tests.support.casefactory import add_entry, data_key_with, file_report, update_case
from tests.support.instance import Instance, quietline_environ
from tests.support.staffing import fresh_totp, sign_in

OFFICER = "officer1@example.org"
REPORT = "Les factures sont scindées pour rester sous le plafond — voir « Parcs » ; 中文 ✓"
REPLY = "Merci : nous examinons la question."
FROM_REPORTER = "There is also a second contract."
NOTE = "Check the 2024 purchase orders first."
LEDGER = b"vendor,amount\nA,9999\n"


async def _case(made: Instance) -> tuple[str, str]:
    """A case at the assessing stage with messages both ways, a note, an image and a table;
    its token and reference."""
    runtime = made.runtime
    token, case = await file_report(
        runtime,
        body=REPORT,
        attachments=(("photo.png", png_with_text()), ("ledger.csv", LEDGER)),
    )
    keys = await data_key_with(runtime, case.id, made.staff_private[OFFICER])
    assert keys is not None
    day = date(2026, 3, 4)
    for kind, author, body in (
        ("message", "office", REPLY),
        ("message", "reporter", FROM_REPORTER),
        ("note", "office", NOTE),
    ):
        await add_entry(runtime, case.id, keys, kind=kind, author=author, on=day, body=body)
    await update_case(runtime, case.id, stage="assessing", acknowledged_on=day)
    return token, case.ref


def _text(pdf: bytes) -> str:
    """The PDF's text as a reader's software extracts it, lines joined."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def _every_byte(pdf: bytes) -> bytes:
    """The file and each of its streams decoded (page text is compressed in the file)."""
    parts = [pdf]
    with pikepdf.open(io.BytesIO(pdf)) as document:
        for item in document.objects:
            if isinstance(item, pikepdf.Stream):
                try:
                    parts.append(item.read_bytes())
                except pikepdf.PdfError:
                    parts.append(item.read_raw_bytes())
    return b"\n".join(parts)


def _images(pdf: bytes) -> int:
    with pikepdf.open(io.BytesIO(pdf)) as document:
        return sum(len(page.get_images()) for page in document.pages)


async def _exports(made: Instance, ref: str) -> list[tuple[str, dict[str, object]]]:
    async with made.runtime.sessions() as session:
        rows = await session.exec(
            select(AuditEvent)
            .where(AuditEvent.action == "case.export", AuditEvent.case_ref == ref)
            .order_by(col(AuditEvent.seq))
        )
        return [(event.actor, json.loads(event.detail or "{}")) for event in rows.all()]


async def _staff_id(made: Instance, email: str) -> str:
    async with made.runtime.sessions() as session:
        person = await keyring.staff_by_email(session, email)
        assert person is not None
        return person.id


def _no_token(pdf: bytes, token: str) -> None:
    everything = _every_byte(pdf).decode("latin-1").upper()
    canonical = crypto.normalise_token(token).upper()
    for form in {token.upper(), canonical, crypto.format_token(canonical).upper()}:
        assert form not in everything
        assert form not in _text(pdf).upper()


async def test_the_pdf_holds_the_case_in_french_with_labels_files_and_an_image(
    client: httpx.AsyncClient, seeded: Instance, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token, ref = await _case(seeded)
    officer = await sign_in(seeded, client, OFFICER)
    answer = await client.post(
        f"/api/v1/cases/{ref}/export",
        params={"format": "pdf", "lang": "fr-CA"},
        headers=officer.headers,
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert f'filename="quietline-case-{ref}.pdf"' in answer.headers["content-disposition"]
    pdf = answer.content
    assert pdf.startswith(b"%PDF-")

    text = _text(pdf)
    for written in (REPLY, FROM_REPORTER, NOTE):
        assert written in text
    assert "Les factures sont scindées pour rester sous le plafond — voir « Parcs » ;" in text
    # Labels in French, never the stored values.
    for label in (
        f"Dossier {ref}",
        "Formulaire Web",
        "En cours d'évaluation",
        "Le signalement",
        "Messages avec la personne qui a fait le signalement",
        "Notes internes",
        "De la personne qui a fait le signalement",
        "Du bureau",
    ):
        assert label in text, label
    assert not re.search(r"\b(web|assessing|financial|in_person|not_substantiated)\b", text)
    # Files listed with name, size, type and cleaning outcome; the image shown.
    assert "photo.png" in text and "image/png" in text and "métadonnées retirées" in text
    assert "ledger.csv" in text and f"{len(LEDGER)} octets" in text
    assert _images(pdf) == 1
    _no_token(pdf, token)

    with pikepdf.open(io.BytesIO(pdf)) as document:
        info = {str(key): str(value) for key, value in document.docinfo.items()}
    assert info["/Title"] == f"Dossier {ref}"
    assert "/Author" not in info and OFFICER not in json.dumps(info)
    assert info["/CreationDate"].endswith("000000Z")  # the day, no time of day

    assert await _exports(seeded, ref) == [(OFFICER, {"by": "staff key", "format": "pdf"})]
    # The font has no Chinese: those characters show as U+FFFD, and no log line names them
    # (fpdf2 logs the glyphs a font lacks: a piece of the report in the server's log).
    assert "\ufffd\ufffd" in text
    assert "中" not in caplog.text and "Parcs" not in caplog.text


async def test_the_staff_page_offers_the_pdf_in_english_and_refuses_an_unknown_format(
    sqlite_client: httpx.AsyncClient, sqlite_seeded: Instance
) -> None:
    made = sqlite_seeded
    _, ref = await _case(made)
    signed = await sqlite_client.post(
        "/staff/login",
        data={
            "email": OFFICER,
            "password": made.staff_passwords[OFFICER],
            "totp": await fresh_totp(made, OFFICER),
        },
    )
    assert signed.status_code == 303
    page = await sqlite_client.get(f"/staff/cases/{ref}")
    assert 'name="format" value="pdf"' in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)

    wrong = await sqlite_client.post(
        f"/staff/cases/{ref}/export", data={"csrf": csrf, "format": "docx"}
    )
    assert wrong.status_code == 422 and "Choose html or pdf" in wrong.text
    assert await _exports(made, ref) == []  # refused before anything was recorded

    answer = await sqlite_client.post(
        f"/staff/cases/{ref}/export", data={"csrf": csrf, "format": "pdf"}
    )
    assert answer.status_code == 200
    text = _text(answer.content)
    for label in ("Web form", "Being assessed", "The report", "From the reporter", "Files"):
        assert label in text, label
    assert REPLY in text and NOTE in text
    html = await sqlite_client.post(f"/staff/cases/{ref}/export", data={"csrf": csrf})
    assert html.headers["content-type"].startswith("text/html")
    assert "Web form" in html.text and "Being assessed" in html.text  # the same labels
    assert [detail["format"] for _, detail in await _exports(made, ref)] == ["pdf", "html"]


async def test_the_api_refuses_an_unknown_format_before_auditing(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    _, ref = await _case(seeded)
    officer = await sign_in(seeded, client, OFFICER)
    answer = await client.post(
        f"/api/v1/cases/{ref}/export", params={"format": "PDF "}, headers=officer.headers
    )
    assert answer.status_code == 422 and "Choose html or pdf" in answer.json()["error"]
    assert await _exports(seeded, ref) == []


async def test_recovery_custodians_export_a_pdf_in_french_from_the_command_line(
    sqlite_seeded: Instance, tmp_path
) -> None:
    made = sqlite_seeded
    token, ref = await _case(made)
    out = tmp_path / "case.pdf"
    environ = {**os.environ, **quietline_environ(made.settings.data_dir)}
    shares = "\n".join(crypto.split_secret(made.recovery_private, threshold=2, shares=3)[:2])
    command = [sys.executable, "-m", "intake.cli", "export", "--ref", ref, "--out", str(out)]
    command += ["--format", "pdf", "--lang", "fr-CA", "--recovery-shares-stdin"]
    command += ["--force", "counsel's request"]
    run = functools.partial(
        subprocess.run, input=shares, capture_output=True, text=True, env=environ, timeout=120
    )
    done = await anyio.to_thread.run_sync(functools.partial(run, command))
    assert done.returncode == 0, done.stderr
    pdf = out.read_bytes()
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    text = _text(pdf)
    assert NOTE in text and "En cours d'évaluation" in text and "Formulaire Web" in text
    _no_token(pdf, token)
    exports = await _exports(made, ref)
    assert len(exports) == 1 and exports[0][1]["format"] == "pdf"
    bad = await anyio.to_thread.run_sync(
        functools.partial(run, [*command[:8], "--lang", "klingon"])
    )
    assert bad.returncode == 2 and "is not one of the languages" in bad.stderr


async def test_an_image_declaring_a_huge_picture_is_listed_and_never_decoded(
    sqlite_seeded: Instance,
) -> None:
    """81 megapixels in a few kilobytes: decoded, it would take hundreds of megabytes."""
    made = sqlite_seeded
    picture = io.BytesIO()
    Image.new("1", (9000, 9000)).save(picture, "PNG")
    _, case = await file_report(made.runtime, attachments=(("huge.png", picture.getvalue()),))
    bundle = await export.export_case(
        made.runtime,
        ref=case.ref,
        private_key=made.staff_private[OFFICER],
        staff_id=await _staff_id(made, OFFICER),
        actor=OFFICER,
        file_format="pdf",
    )
    pdf = await case_pdf.pdf_bytes(bundle)
    text = _text(pdf)
    assert "huge.png" in text and "image/png" in text
    assert "This image is too large to show in the PDF." in text
    assert _images(pdf) == 0
