"""What a reporter is told about each file, end to end through the API, on SQLite and
PostgreSQL: a PDF with metadata on every object comes out with none of it, and a signed PDF is
kept exactly as sent with the reason it was not cleaned, in the reporter's language."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pikepdf

from tests.integration.test_attachments import multipart_report, staff_files
from tests.support import attachment_files as files
from tests.support import metadata_corpus as corpus
from tests.support.instance import Instance

FRENCH = {"accept-language": "fr-CA"}


async def test_a_pdf_loses_what_every_object_carried_and_a_signed_one_is_kept_with_its_reason(
    client: httpx.AsyncClient, seeded: Instance, tmp_path: Path
) -> None:
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(files.jpeg_with_exif_gps())
    uploads = {
        "minutes.pdf": corpus.build_pdf(tmp_path, photo).read_bytes(),
        "signed contract.pdf": corpus.pdf_with_form_field(signed=True),
    }
    answer = await client.post(
        "/api/v1/reports",
        headers=FRENCH,
        **multipart_report([(name, data, "application/pdf") for name, data in uploads.items()]),
    )
    assert answer.status_code == 201, answer.text
    told = {item["name"]: item for item in answer.json()["attachments"]}
    assert told["minutes.pdf"]["cleaned"] is True
    assert {"fichiers intégrés", "scripts et actions automatiques"} <= set(
        told["minutes.pdf"]["removed"]
    )
    signed = told["signed contract.pdf"]
    assert signed["cleaned"] is False
    assert "signature numérique, que le nettoyage briserait" in signed["problem"], signed

    stored = await staff_files(seeded, answer.json()["token"])
    assert stored["signed contract.pdf"][1] == uploads["signed contract.pdf"]
    assert not stored["signed contract.pdf"][0].cleaned
    cleaned = stored["minutes.pdf"][1]
    for planted in corpus.PLANTED:
        assert planted.encode() not in cleaned
    with pikepdf.open(io.BytesIO(cleaned)) as pdf:
        assert len(pdf.attachments) == 0 and "/OpenAction" not in pdf.Root
        assert files.PDF_TEXT.encode() in pdf.pages[0].Contents.read_bytes()
