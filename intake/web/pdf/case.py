"""The case export as a PDF: the same gathered case as the HTML file
(:class:`intake.casework.export.CaseExport`), in the same words (:mod:`intake.web.export_words`),
in the reader's language.

Files are listed with their name, size, type and cleaning outcome; images are shown on the page.
An image is decrypted into memory (never to disk) and handed to fpdf2 as a buffer; one that is
too large (in bytes, or in pixels as its header states them, before anything is decoded), or
that the image library cannot read, is listed with a sentence saying so instead of stopping the
export. Other files are not in the PDF: the HTML export carries them.

The key is checked and the export audited (with the format) before this runs
(:mod:`intake.casework.export`). Unlike the HTML file, the PDF is assembled in memory before
its first byte is sent.
"""

from __future__ import annotations

import io

from fpdf.image_parsing import preload_image
from PIL import Image
from starlette.responses import Response

from intake import i18n
from intake.attachments.store import StoredAttachment
from intake.casework.export import CaseExport, ExportedEntry
from intake.i18n import N_
from intake.web import export_words as words
from intake.web.pdf.document import MEDIA_TYPE, Document, render

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
IMAGE_LIMIT = 20_000_000  # bytes of one image decrypted into memory to be shown
IMAGE_PIXEL_LIMIT = 50_000_000  # pixels of one image decoded to be shown (a 50-megapixel photo)
IMAGE_HEIGHT = 110  # mm, at most, of one image on the page
MM_PER_PIXEL = 25.4 / 96


def is_image(attachment: StoredAttachment) -> bool:
    return attachment.content_type in IMAGE_TYPES


async def _images(export: CaseExport) -> dict[str, bytes]:
    """The images to show, decrypted in memory, by attachment id."""
    found: dict[str, bytes] = {}
    for attachment in export.files:
        if not is_image(attachment) or attachment.size > IMAGE_LIMIT:
            continue
        buffer = bytearray()
        async for piece in export.plaintext(attachment):
            buffer.extend(piece)
        found[attachment.id] = bytes(buffer)
    return found


def _entries(document: Document, title: str, entries: list[ExportedEntry], always: bool) -> None:
    if not entries and not always:
        return
    document.heading(title, 2)
    for entry in entries:
        document.heading(words.entry_heading(entry), 3)
        document.paragraph(entry.text)
    if not entries:
        document.paragraph(words.none_words(), muted=True)


def _pixels(content: bytes) -> int | None:
    """The image's pixel count from its header alone (nothing decoded); None if unreadable."""
    try:
        with Image.open(io.BytesIO(content)) as image:
            width, height = image.size
    except Exception:  # noqa: BLE001 - an unreadable image is listed, not shown
        return None
    return width * height


def _place_image(document: Document, content: bytes) -> bool:
    """Scale the image to fit the width and at most IMAGE_HEIGHT, on a new page if needed."""
    try:
        _, _, info = preload_image(document.image_cache, io.BytesIO(content))
        width, height = float(info["w"]), float(info["h"])
    except Exception:  # noqa: BLE001 - an image the library cannot read is listed, not shown
        return False
    if width <= 0 or height <= 0:
        return False
    width, height = width * MM_PER_PIXEL, height * MM_PER_PIXEL  # at 96 pixels an inch
    scale = min(document.usable_width / width, IMAGE_HEIGHT / height, 1.0)  # never enlarged
    shown_w, shown_h = width * scale, height * scale
    if document.will_page_break(shown_h):
        document.add_page()
    try:
        document.image(io.BytesIO(content), x=document.l_margin, w=shown_w, h=shown_h)
    except Exception:  # noqa: BLE001 - as above
        return False
    document.ln(3)
    return True


def _files(document: Document, export: CaseExport, images: dict[str, bytes]) -> None:
    document.heading(i18n.gettext(words.SECTION_TITLES["files"]), 2)
    if not export.files:
        document.paragraph(words.none_words(), muted=True)
        return
    others = False
    for attachment in export.files:
        document.paragraph(words.file_line(attachment))
        if not is_image(attachment):
            others = True
            continue
        content = images.get(attachment.id)
        pixels = _pixels(content) if content is not None else None
        if content is None or (pixels is not None and pixels > IMAGE_PIXEL_LIMIT):
            document.paragraph(
                i18n.gettext(N_("This image is too large to show in the PDF.")), muted=True
            )
            others = True
        elif not _place_image(document, content):
            document.paragraph(
                i18n.gettext(N_("This image could not be shown in the PDF.")), muted=True
            )
            others = True
    if others:
        document.paragraph(
            i18n.gettext(
                N_(
                    "Files other than images are listed here but not included: the HTML "
                    "export of the case carries every file."
                )
            ),
            muted=True,
        )


def _answers(document: Document, export: CaseExport) -> None:
    """The questionnaire's answers, each under its question as it was asked."""
    if not export.answers:
        return
    document.heading(i18n.gettext(words.SECTION_TITLES["answers"]), 2)
    for item in export.answers:
        mark = f" ({words.may_identify_words()})" if item.may_identify else ""
        document.heading(item.question + mark, 3)
        document.paragraph(item.answer)


def build(export: CaseExport, images: dict[str, bytes]) -> bytes:
    """The PDF's bytes, in the current language."""
    document = Document(title=words.title(export), made_on=export.exported_on)
    document.heading(words.title(export), 1)
    document.boxed(words.warning(export))
    document.facts(words.fact_rows(export))
    document.heading(i18n.gettext(words.SECTION_TITLES["report"]), 2)
    for fields in export.reports:
        for label, value in fields:
            document.heading(words.report_label(label), 3)
            document.paragraph(value)
    if not export.reports:
        document.paragraph(words.none_words(), muted=True)
    _answers(document, export)
    _entries(document, i18n.gettext(words.SECTION_TITLES["messages"]), export.messages, True)
    _entries(document, i18n.gettext(words.SECTION_TITLES["notes"]), export.notes, True)
    _entries(document, i18n.gettext(words.SECTION_TITLES["outcomes"]), export.outcomes, False)
    _files(document, export, images)
    return document.to_bytes()


async def pdf_bytes(export: CaseExport) -> bytes:
    """Decrypt the images to show, then build the PDF in a worker thread."""
    images = await _images(export)
    return await render(lambda: build(export, images))


async def response(export: CaseExport) -> Response:
    return Response(
        await pdf_bytes(export),
        media_type=MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{export.file_name("pdf")}"'},
    )
