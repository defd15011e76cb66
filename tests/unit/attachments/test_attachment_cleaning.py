"""Metadata cleaning of each known format, on files made by real libraries, and hostile input."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pikepdf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms

from intake.attachments.cleaning.errors import Unreadable
from intake.attachments.cleaning.formats import detect
from tests.support import attachment_files as files
from tests.support import metadata_corpus as corpus

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


def icc_tags(profile: bytes) -> dict[bytes, bytes]:
    count = int.from_bytes(profile[128:132], "big")
    tags = {}
    for index in range(count):
        entry = profile[132 + 12 * index : 144 + 12 * index]
        offset, size = int.from_bytes(entry[4:8], "big"), int.from_bytes(entry[8:12], "big")
        tags[entry[:4]] = profile[offset : offset + size]
    return tags


@pytest.mark.parametrize("kind", ["JPEG", "PNG", "WEBP"])
def test_images_keep_their_colours_but_not_the_profile_texts_device_or_time(kind: str) -> None:
    profile = corpus.traced_profile()
    out = io.BytesIO()
    Image.new("RGB", (16, 16), "red").save(out, kind, icc_profile=profile)
    original = out.getvalue() + (b"TRAILER " + files.AUTHOR.encode() if kind == "JPEG" else b"")
    cleaned, removed = clean(original)
    assert "colour profile details (device, software, description, time)" in removed
    with Image.open(io.BytesIO(cleaned)) as after:
        kept = after.info["icc_profile"]
    ImageCms.ImageCmsProfile(io.BytesIO(kept))  # still a profile colour management reads
    before, now = icc_tags(profile), icc_tags(kept)
    for colour in (b"rXYZ", b"gXYZ", b"bXYZ", b"rTRC", b"wtpt", b"chad"):
        assert now[colour] == before[colour]
    assert not {b"cprt", b"dmnd", b"dmdd"} & set(now)
    assert kept[24:36] == bytes(12) and kept[48:56] == bytes(8) and kept[80:84] == bytes(4)
    for text in (corpus.PROFILE_TEXT, files.AUTHOR, files.CAMERA_MAKE, files.CAMERA_MODEL):
        assert text.encode("utf-16-be") not in kept and text.encode() not in kept
    if kind == "JPEG":
        assert "data after the end of the image" in removed
        assert cleaned.endswith(b"\xff\xd9")


def test_jpeg_loses_its_jfif_and_jfxx_thumbnails_but_keeps_its_density() -> None:
    photo = io.BytesIO()
    Image.new("RGB", (40, 30), "blue").save(photo, "JPEG", dpi=(300, 300))
    data = photo.getvalue()
    assert data[2:4] == b"\xff\xe0" and data[6:11] == b"JFIF\x00"
    thumbnail = io.BytesIO()
    Image.new("RGB", (8, 6), "green").save(thumbnail, "JPEG")
    jfif = data[6:18] + b"\x02\x01" + bytes(6)  # a 2x1 RGB thumbnail in the JFIF header
    jfxx = b"JFXX\x00\x10" + thumbnail.getvalue()
    original = (
        data[:2]
        + b"\xff\xe0" + (len(jfif) + 2).to_bytes(2, "big") + jfif
        + b"\xff\xe0" + (len(jfxx) + 2).to_bytes(2, "big") + jfxx
        + data[4 + int.from_bytes(data[4:6], "big"):]
    )  # fmt: skip
    cleaned, removed = clean(original)
    assert "thumbnail (a small copy of the picture, possibly before cropping)" in removed
    assert b"JFXX" not in cleaned and thumbnail.getvalue()[2:] not in cleaned
    assert cleaned[4:6] == (16).to_bytes(2, "big") and cleaned[18:20] == b"\x00\x00"
    with Image.open(io.BytesIO(cleaned)) as after:
        assert after.info["dpi"] == (300, 300) and after.size == (40, 30)


def test_pdf_loses_metadata_files_scripts_and_traces_on_every_object(tmp_path: Path) -> None:
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(files.jpeg_with_exif_gps())
    original = corpus.build_pdf(tmp_path, photo).read_bytes()
    cleaned, removed = clean(original)
    assert {"embedded files", "scripts and automatic actions", "modification times"} <= set(removed)
    with pikepdf.open(io.BytesIO(cleaned)) as pdf:
        assert "/Info" not in pdf.trailer and len(pdf.attachments) == 0
        everything = b""
        for obj in pdf.objects:
            if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
                assert not FORBIDDEN_PDF_KEYS & set(obj.keys()), obj.keys()
                if obj.get("/Subtype") == pikepdf.Name.Text:
                    assert not {"/T", "/NM", "/M", "/CreationDate"} & set(obj.keys())
            if isinstance(obj, pikepdf.Stream):
                everything += obj.read_raw_bytes()
                if obj.get("/Filter") != pikepdf.Name.DCTDecode:
                    everything += obj.read_bytes()
            everything += repr(obj).encode()
        assert files.PDF_TEXT.encode() in pdf.pages[0].Contents.read_bytes()
    for planted in corpus.PLANTED:
        assert planted.encode() not in everything and planted.encode() not in cleaned


FORBIDDEN_PDF_KEYS = {
    "/Metadata", "/PieceInfo", "/LastModified", "/AA", "/OpenAction", "/EF", "/AF", "/JS",
    "/Thumb", "/FS", "/EmbeddedFiles", "/JavaScript",
}  # fmt: skip


def test_pdf_form_fields_keep_their_names_but_not_their_times() -> None:
    cleaned, _ = clean(corpus.pdf_with_form_field(signed=False))
    with pikepdf.open(io.BytesIO(cleaned)) as pdf:
        widget = pdf.pages[0].Annots[0]
        assert str(widget.T) == "amount" and "/M" not in widget


def test_a_signed_pdf_is_not_cleaned_and_the_reporter_is_told_why() -> None:
    with pytest.raises(Unreadable, match="digital signature, which cleaning would break"):
        clean(corpus.pdf_with_form_field(signed=True))


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


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 700), st.integers(0, 255)), max_size=12),
    st.integers(0, 700),
)
def test_a_damaged_colour_profile_is_refused_or_rebuilt_never_a_crash(
    changes: list[tuple[int, int]], cut: int
) -> None:
    from intake.attachments.cleaning.icc import scrub_profile

    profile = bytearray(corpus.traced_profile())
    for at, value in changes:
        if at < len(profile):
            profile[at] = value
    try:
        cleaned = scrub_profile(bytes(profile[: len(profile) - cut]))
    except Unreadable:
        return
    assert scrub_profile(cleaned) == cleaned  # what it writes, it reads back unchanged
