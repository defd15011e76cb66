"""The attachment cleaners judged by outside tools: Debian's exiftool and mat2 read each cleaned
file of a corpus that exiftool and pikepdf wrote, and qpdf checks and expands the cleaned PDF.

Each file carries an author, a camera make and model, a GPS position, software, times, XMP, a
telling colour profile, thumbnails (JPEG: JFIF, JFXX and EXIF), and for the PDF every place a
PDF hides the same (see tests/support/metadata_corpus.py). The judges must find all of it in
the original and none of it in the cleaned copy, which must still show the same picture or text.
Without the tools these tests are skipped, saying which package to install; in CI they fail.
"""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from intake.attachments.cleaning.formats import detect
from tests.support import metadata_corpus as corpus
from tests.support.attachment_files import PDF_TEXT

KINDS = ("jpeg", "png", "webp", "pdf")


@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("corpus")
    files = corpus.build_images(folder)
    files["pdf"] = corpus.build_pdf(folder, files["jpeg"])
    return files


def clean(path: Path) -> tuple[Path, tuple[str, ...]]:
    """Clean ``path`` as an upload is cleaned (the PDF in its limited child process)."""
    data = path.read_bytes()
    cleaner = detect(data[:4096]).cleaner_for(len(data))
    assert cleaner is not None
    out = io.BytesIO()
    removed = cleaner(io.BytesIO(data), out.write)
    cleaned = path.with_name("cleaned-" + path.name)
    cleaned.write_bytes(out.getvalue())
    return cleaned, removed


@pytest.mark.parametrize("kind", KINDS)
def test_the_judges_find_who_where_and_when_in_every_original(
    originals: dict[str, Path], kind: str
) -> None:
    found = " ".join(corpus.exiftool_findings(originals[kind]))
    for expected in (corpus.AUTHOR, corpus.SOFTWARE, corpus.PROFILE_TEXT):
        assert expected in found, (kind, expected)
    by_mat2 = corpus.mat2_findings(originals[kind])
    if kind == "webp":
        assert by_mat2 is None  # mat2 does not read WebP: exiftool alone judges it
    else:
        assert by_mat2 is not None and corpus.AUTHOR in " ".join(by_mat2)
    if kind in ("jpeg", "pdf"):  # the PDF's picture is the tagged photo, read with -ee
        for expected in ("GPS:GPSLatitude", "JFXX:ThumbnailImage", "IFD1:ThumbnailImage"):
            assert expected in found, (kind, expected)


@pytest.mark.parametrize("kind", KINDS)
def test_neither_judge_finds_anything_identifying_in_a_cleaned_file(
    originals: dict[str, Path], kind: str
) -> None:
    cleaned, removed = clean(originals[kind])
    assert removed
    assert corpus.exiftool_findings(cleaned) == []
    assert corpus.mat2_findings(cleaned) == ([] if kind != "webp" else None)
    data = cleaned.read_bytes()
    if kind == "pdf":
        data = _expanded(cleaned)
    for planted in corpus.PLANTED:
        assert planted.encode() not in data, (kind, planted)
        assert planted.encode("utf-16-be") not in data, (kind, planted)


@pytest.mark.parametrize("kind", ("jpeg", "png", "webp"))
def test_a_cleaned_picture_shows_the_same_pixels(originals: dict[str, Path], kind: str) -> None:
    cleaned, _ = clean(originals[kind])
    with Image.open(originals[kind]) as before, Image.open(cleaned) as after:
        assert after.convert("RGB").tobytes() == before.convert("RGB").tobytes()
        assert after.info.get("icc_profile"), "the colour profile is kept, scrubbed"


def test_the_cleaned_pdf_is_sound_keeps_its_text_and_picture_and_carries_nothing_else(
    originals: dict[str, Path],
) -> None:
    cleaned, removed = clean(originals["pdf"])
    qpdf = corpus.tool("qpdf")
    check = subprocess.run([qpdf, "--check", str(cleaned)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    for what in ("embedded files", "scripts and automatic actions", "modification times"):
        assert what in removed
    with pikepdf.open(cleaned) as pdf:
        page = pdf.pages[0]
        assert PDF_TEXT.encode() in page.Contents.read_bytes()
        assert [str(annot.Subtype) for annot in page.Annots] == ["/Text"]
        assert str(page.Annots[0].Contents) == "check this"  # the comment itself stays
        picture = page.Resources.XObject.Im1
        with Image.open(io.BytesIO(picture.read_raw_bytes())) as image:
            assert image.size == (96, 64)
        assert "/Names" not in pdf.Root or not len(pdf.Root.Names.keys())
        assert "/OpenAction" not in pdf.Root and "/Info" not in pdf.trailer
        assert len(pdf.attachments) == 0


def _expanded(path: Path) -> bytes:
    """The PDF with every stream decompressed and no object streams, as qpdf writes it."""
    expanded = path.with_name("expanded-" + path.name)
    subprocess.run(
        [corpus.tool("qpdf"), "--qdf", "--object-streams=disable", str(path), str(expanded)],
        check=True,
        capture_output=True,
    )
    return expanded.read_bytes()
