"""Metadata cleaning of each known format, on files made by real libraries, and hostile input."""

from __future__ import annotations

import io
import zipfile

import pikepdf
import pytest
from PIL import Image

from intake.attachments.cleaning.errors import Unreadable
from intake.attachments.cleaning.formats import detect
from tests.support import attachment_files as files

IDENTIFYING = [
    files.AUTHOR.encode(),
    files.CAMERA_MAKE.encode(),
    files.CAMERA_MODEL.encode(),
    files.AUTHOR.encode("utf-16-be"),
]


def clean(data: bytes) -> tuple[bytes, tuple[str, ...]]:
    cleaner = detect(data[:4096]).cleaner_for(len(data))
    assert cleaner is not None
    out = io.BytesIO()
    removed = cleaner(io.BytesIO(data), out.write)
    return out.getvalue(), removed


def assert_nothing_identifying(data: bytes) -> None:
    for needle in IDENTIFYING:
        assert needle not in data, needle


@pytest.mark.parametrize(
    "make", [files.jpeg_with_exif_gps, files.png_with_text, files.webp_with_exif]
)
def test_images_lose_exif_gps_and_text_but_keep_their_pixels(make) -> None:
    original = make()
    with Image.open(io.BytesIO(original)) as before:
        assert before.getexif().get_ifd(0x8825), "the test image must carry GPS"
        pixels = before.convert("RGB").tobytes()
    cleaned, removed = clean(original)
    assert any("EXIF" in item for item in removed)
    assert_nothing_identifying(cleaned)
    with Image.open(io.BytesIO(cleaned)) as after:
        assert not after.getexif()
        assert not after.info.get("exif") and "Author" not in after.info
        assert after.convert("RGB").tobytes() == pixels


def test_jpeg_keeps_its_colour_profile_and_drops_what_follows_the_image() -> None:
    out = io.BytesIO()
    profile = b"ICC-PROFILE-BYTES" * 10
    Image.new("RGB", (16, 16), "red").save(
        out, "JPEG", icc_profile=profile, exif=b"Exif\x00\x00II*\x00"
    )
    original = out.getvalue() + b"TRAILER " + files.AUTHOR.encode()
    cleaned, removed = clean(original)
    assert "data after the end of the image" in removed
    assert cleaned.endswith(b"\xff\xd9")
    with Image.open(io.BytesIO(cleaned)) as after:
        assert after.info["icc_profile"] == profile


def test_pdf_loses_document_info_xmp_and_comment_authors_but_keeps_its_text() -> None:
    cleaned, removed = clean(files.pdf_with_author())
    assert removed
    assert_nothing_identifying(cleaned)
    with pikepdf.open(io.BytesIO(cleaned)) as pdf:
        assert "/Author" not in pdf.docinfo
        assert "/Metadata" not in pdf.Root
        assert files.PDF_TEXT.encode() in pdf.pages[0].Contents.read_bytes()
        assert "/T" not in pdf.pages[0].Annots[0]


def test_docx_loses_author_and_revision_data_but_keeps_its_text() -> None:
    cleaned, removed = clean(files.docx_with_author())
    assert any("document properties" in item for item in removed)
    with zipfile.ZipFile(io.BytesIO(cleaned)) as archive:
        assert archive.testzip() is None
        everything = b"".join(archive.read(name) for name in archive.namelist())
        document = archive.read("word/document.xml")
    assert_nothing_identifying(everything)
    assert files.DOCX_TEXT.encode() in document
    assert b"rsidR" not in document and b"2025-03-01" not in document


@pytest.mark.parametrize(
    "data",
    [
        files.jpeg_with_exif_gps()[:700],  # truncated inside the image data
        files.jpeg_with_exif_gps()[:40],  # truncated inside the EXIF segment
        files.png_with_text()[:100],
        files.webp_with_exif()[:40],
        b"%PDF-1.7\nthis is not really a PDF at all",
        b"PK\x03\x04[Content_Types].xml" + b"garbage" * 50,
    ],
    ids=["jpeg-cut", "jpeg-cut-early", "png-cut", "webp-cut", "fake-pdf", "broken-zip"],
)
def test_malformed_files_are_refused_by_their_cleaner(data: bytes) -> None:
    with pytest.raises((Unreadable, pikepdf.PdfError)):
        clean(data)


def test_a_zip_bomb_named_docx_stops_cleaning_without_expanding() -> None:
    bomb = files.zip_bomb_docx()
    out = io.BytesIO()
    cleaner = detect(bomb[:4096]).cleaner_for(len(bomb))
    with pytest.raises(Unreadable, match="ZIP bomb"):
        cleaner(io.BytesIO(bomb), out.write)
    assert out.tell() < 50 * len(bomb)


def test_download_names_are_safe_for_headers_and_keep_the_exact_name() -> None:
    from intake.attachments.prepare import safe_name
    from intake.web.download import content_disposition

    assert safe_name("C:\\Users\\jane\\Desktop\\memo.pdf") == "memo.pdf"
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("a\r\nb\x00.txt") == "ab.txt"
    assert safe_name("...") == "attachment"
    header = content_disposition('Été "final";.pdf')
    assert header == (
        'attachment; filename="Ete _final__.pdf"; '
        "filename*=UTF-8''%C3%89t%C3%A9%20%22final%22%3B.pdf"
    )
    assert "\r" not in content_disposition("報告.pdf") and "__.pdf" in content_disposition(
        "報告.pdf"
    )


def test_pictures_inside_a_document_lose_their_exif_too() -> None:
    photo = files.jpeg_with_exif_gps()
    cleaned, removed = clean(files.docx_with_author(picture=photo))
    assert any("pictures" in item for item in removed)
    with zipfile.ZipFile(io.BytesIO(cleaned)) as archive:
        picture = archive.read("word/media/image1.jpeg")
    assert files.CAMERA_MODEL.encode() not in picture
    with Image.open(io.BytesIO(picture)) as image:
        assert image.size == (64, 48) and not image.getexif()
    damaged = photo[:300]
    cleaned, _ = clean(files.docx_with_author(picture=damaged))
    with zipfile.ZipFile(io.BytesIO(cleaned)) as archive:
        assert archive.read("word/media/image1.jpeg") == damaged  # copied as it was


def test_opendocument_loses_its_author_and_comment_authors_but_keeps_its_text() -> None:
    cleaned, removed = clean(files.odt_with_author())
    assert removed
    with zipfile.ZipFile(io.BytesIO(cleaned)) as archive:
        assert archive.testzip() is None
        assert archive.namelist()[0] == "mimetype"
        assert archive.infolist()[0].compress_type == zipfile.ZIP_STORED
        assert archive.read("mimetype") == b"application/vnd.oasis.opendocument.text"
        everything = b"".join(archive.read(name) for name in archive.namelist())
        content = archive.read("content.xml")
    assert_nothing_identifying(everything)
    assert files.DOCX_TEXT.encode() in content and b"2025-03-01" not in content
    # mimetype first, stored, no data descriptor: its name and value at fixed offsets.
    assert cleaned[:4] == b"PK\x03\x04" and cleaned[6:8] == b"\x00\x00"
    assert cleaned[30:38] == b"mimetype"
    assert cleaned[38:77] == b"application/vnd.oasis.opendocument.text"
