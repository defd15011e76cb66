"""Files with identifying metadata, built in the test from real libraries (Pillow, pikepdf,
zipfile), and malformed ones."""

from __future__ import annotations

import io
import zipfile

import pikepdf
from PIL import Image, PngImagePlugin

CAMERA_MAKE = "QuietlineTestCam"
CAMERA_MODEL = "Model-X9-SN77213"
GPS_LATITUDE = (45.0, 25.0, 12.34)
AUTHOR = "Jane Q. Whistleblower"
PDF_TEXT = "Contract 2025-117 was signed without a vote"
DOCX_TEXT = "The invoice total was altered on Friday"


def _image(size: tuple[int, int] = (64, 48)) -> Image.Image:
    image = Image.new("RGB", size)
    for x in range(size[0]):
        for y in range(size[1]):
            image.putpixel((x, y), ((x * 4) % 256, (y * 5) % 256, 128))
    return image


def _exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = CAMERA_MAKE  # Make
    exif[0x0110] = CAMERA_MODEL  # Model
    exif[0x013B] = AUTHOR  # Artist
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = GPS_LATITUDE
    gps[3] = "W"
    gps[4] = (75.0, 41.0, 56.78)
    return exif


def jpeg_with_exif_gps() -> bytes:
    out = io.BytesIO()
    _image().save(out, "JPEG", exif=_exif(), comment=f"shot by {AUTHOR}".encode(), quality=95)
    return out.getvalue()


def png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", AUTHOR)
    info.add_itxt("Comment", f"taken by {AUTHOR}")
    out = io.BytesIO()
    _image().save(out, "PNG", pnginfo=info, exif=_exif())
    return out.getvalue()


def webp_with_exif() -> bytes:
    out = io.BytesIO()
    _image().save(out, "WEBP", exif=_exif(), lossless=True)
    return out.getvalue()


def pdf_with_author() -> bytes:
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(300, 200))
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont="/Helvetica"
        )
    )
    page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page.Contents = pdf.make_stream(f"BT /F1 10 Tf 10 100 Td ({PDF_TEXT}) Tj ET".encode())
    page.Annots = pdf.make_indirect(
        pikepdf.Array(
            [
                pikepdf.Dictionary(
                    Type=pikepdf.Name.Annot,
                    Subtype=pikepdf.Name.Text,
                    Rect=[10, 10, 30, 30],
                    Contents="check this",
                    T=AUTHOR,
                )
            ]
        )
    )
    pdf.docinfo["/Author"] = AUTHOR
    pdf.docinfo["/Creator"] = CAMERA_MODEL
    with pdf.open_metadata() as meta:
        meta["dc:creator"] = [AUTHOR]
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def docx_with_author(picture: bytes | None = None) -> bytes:
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
            '<Override PartName="/docProps/core.xml" ContentType="application/vnd.'
            'openxmlformats-package.core-properties+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/officeDocument" Target="word/document.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
            'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
            "</Relationships>"
        ),
        "word/document.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f'<w:document xmlns:w="{w}"><w:body>'
            '<w:p w:rsidR="00A1B2C3"><w:r><w:t>'
            f"{DOCX_TEXT}</w:t></w:r>"
            f'<w:ins w:id="1" w:author="{AUTHOR}" w:date="2025-03-01T10:00:00Z">'
            "<w:r><w:t> (edited)</w:t></w:r></w:ins></w:p>"
            "</w:body></w:document>"
        ),
        "docProps/core.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
            'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f"<dc:creator>{AUTHOR}</dc:creator><cp:lastModifiedBy>{AUTHOR}</cp:lastModifiedBy>"
            "</cp:coreProperties>"
        ),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
        if picture is not None:
            archive.writestr("word/media/image1.jpeg", picture)
    return out.getvalue()


def zip_bomb_docx(expanded: int = 64 * 1024 * 1024) -> bytes:
    """A small archive named like a document whose one member expands hugely."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/media/blob.bin", "w", force_zip64=True) as member:
            block = bytes(1024 * 1024)
            for _ in range(expanded // len(block)):
                member.write(block)
    return out.getvalue()


def odt_with_author() -> bytes:
    office = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
    text = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
    dc = "http://purl.org/dc/elements/1.1/"
    meta = "urn:oasis:names:tc:opendocument:xmlns:meta:1.0"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"),
            "application/vnd.oasis.opendocument.text",
            compress_type=zipfile.ZIP_STORED,
        )
        archive.writestr(
            "meta.xml",
            f'<office:document-meta xmlns:office="{office}" xmlns:dc="{dc}" '
            f'xmlns:meta="{meta}"><office:meta><dc:creator>{AUTHOR}</dc:creator>'
            f"<meta:initial-creator>{AUTHOR}</meta:initial-creator></office:meta>"
            "</office:document-meta>",
        )
        archive.writestr(
            "content.xml",
            f'<office:document-content xmlns:office="{office}" xmlns:text="{text}" '
            f'xmlns:dc="{dc}"><office:body><office:text><text:p>{DOCX_TEXT}'
            f"<office:annotation><dc:creator>{AUTHOR}</dc:creator>"
            "<dc:date>2025-03-01T10:00:00</dc:date><text:p>see</text:p></office:annotation>"
            "</text:p></office:text></office:body></office:document-content>",
        )
    return out.getvalue()
