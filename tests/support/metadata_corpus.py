"""A corpus of files carrying every kind of identifying metadata, written by real tools
(exiftool for the images, pikepdf for the PDF), and the two outside judges, exiftool and mat2.

Nothing here is committed as a binary: each file is built in the test's temporary folder. The
tools are Debian packages (``libimage-exiftool-perl``, ``mat2``, ``qpdf``); :func:`tool` skips a
test that needs one where it is missing, and fails it in CI (``QUIETLINE_TEST_REQUIRE_BROWSER=1``,
set by ``.ci/run``, which installs them).
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, String
from PIL import Image, ImageCms

from tests.support.attachment_files import AUTHOR, CAMERA_MAKE, CAMERA_MODEL, PDF_TEXT

SOFTWARE = "QuietlineTestEditor 9.1"
PROFILE_TEXT = "Profile of Jane's office scanner"
PATH = "C:\\Users\\jwhistle\\Documents\\minutes-draft.docx"
NICKNAME = "annot-jwhistle-0042"
# Values planted in the corpus: none may be found in a cleaned file, by a judge or in its bytes.
PLANTED = (AUTHOR, CAMERA_MAKE, CAMERA_MODEL, SOFTWARE, PROFILE_TEXT, "jwhistle", "2019")
# Tag names that say who, with what, where or when (or carry another picture or file).
IDENTIFYING_TAG = re.compile(
    r"artist|author|creator|owner|make|model|serial|gps|location|software|producer|tool|"
    r"date|time|thumbnail|preview|embedded|attachment|comment|copyright|rights|"
    r"description|title|subject|keyword|manufacturer|history|instance|documentid|"
    r"javascript|platform|cmmtype|name",
    re.IGNORECASE,
)
# Said of a picture inside a PDF, not of a file carried in it.
_PICTURE_TAG = re.compile(r"^EmbeddedImage")
# Empty, zero or unset values (a scrubbed colour profile's header fields, mat2's "-1"), and the
# neutral names the cleaners give a colour profile.
_EMPTY = re.compile(
    r"^[\s0:.\-]*$|^-1$|^Unknown \(0?\)$|^(RGB|Gray|CMYK|Lab|XYZ|Colour) profile$|^ICC profile$"
)


def _finding(name: str, value: str) -> bool:
    if any(planted.lower() in value.lower() for planted in PLANTED):
        return True
    return bool(
        IDENTIFYING_TAG.search(name) and not _PICTURE_TAG.match(name) and not _EMPTY.match(value)
    )


def tool(name: str) -> str:
    """The path of an outside tool, or skip (fail in CI) saying which Debian package has it."""
    import pytest

    path = shutil.which(name)
    if path is None:
        package = {"exiftool": "libimage-exiftool-perl"}.get(name, name)
        reason = f"{name} is not installed here (Debian package {package}; .ci/run installs it)"
        if os.environ.get("QUIETLINE_TEST_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def _run(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, (command, done.stdout, done.stderr)
    return done.stdout


def traced_profile() -> bytes:
    """A real sRGB profile (lcms, through Pillow) given a telling description, copyright,
    device descriptions and header fields, as a scanner or camera maker's profile has."""
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    count = int.from_bytes(profile[128:132], "big")
    tags = {}
    for index in range(count):
        entry = profile[132 + 12 * index : 144 + 12 * index]
        offset, size = int.from_bytes(entry[4:8], "big"), int.from_bytes(entry[8:12], "big")
        tags[entry[:4]] = profile[offset : offset + size]

    def mluc(text: str) -> bytes:
        encoded = text.encode("utf-16-be")
        return (
            b"mluc\0\0\0\0"
            + (1).to_bytes(4, "big")
            + (12).to_bytes(4, "big")
            + b"enUS"
            + (len(encoded).to_bytes(4, "big") + (28).to_bytes(4, "big") + encoded)
        )

    tags[b"desc"] = mluc(PROFILE_TEXT)
    tags[b"cprt"] = mluc(f"Copyright {AUTHOR}")
    tags[b"dmnd"] = mluc(CAMERA_MAKE)
    tags[b"dmdd"] = mluc(CAMERA_MODEL)
    header = bytearray(profile[:128])
    header[48:52] = b"QTCM"  # device manufacturer
    header[52:56] = b"X977"  # device model
    header[80:84] = b"JANE"  # creator
    table, body = bytearray(len(tags).to_bytes(4, "big")), bytearray()
    start = 132 + 12 * len(tags)
    for signature, data in tags.items():
        table += signature + (start + len(body)).to_bytes(4, "big") + len(data).to_bytes(4, "big")
        body += data + bytes(-len(data) % 4)
    header[0:4] = (128 + len(table) + len(body)).to_bytes(4, "big")
    return bytes(header) + bytes(table) + bytes(body)


def _picture(size: tuple[int, int] = (96, 64)) -> Image.Image:
    image = Image.new("RGB", size)
    for x in range(size[0]):
        for y in range(size[1]):
            image.putpixel((x, y), ((x * 3) % 256, (y * 4) % 256, 90))
    return image


def _thumbnail(folder: Path) -> Path:
    path = folder / "thumbnail.jpg"
    _picture((24, 16)).save(path, "JPEG")
    return path


def _jfxx_segment() -> bytes:
    """A JFIF extension (APP0 "JFXX") segment holding a JPEG thumbnail of the uncropped photo."""
    out = io.BytesIO()
    _picture((32, 24)).save(out, "JPEG", quality=60)
    payload = b"JFXX\x00\x10" + out.getvalue()
    return b"\xff\xe0" + (len(payload) + 2).to_bytes(2, "big") + payload


def _write_tags(exiftool: str, path: Path, thumbnail: Path | None, *extra: str) -> None:
    arguments = [
        f"-Artist={AUTHOR}",
        f"-Make={CAMERA_MAKE}",
        f"-Model={CAMERA_MODEL}",
        f"-Software={SOFTWARE}",
        "-DateTimeOriginal=2019:07:14 09:30:00",
        "-GPSLatitude=45.4215",
        "-GPSLatitudeRef=N",
        "-GPSLongitude=75.6972",
        "-GPSLongitudeRef=W",
        f"-XMP-dc:Creator={AUTHOR}",
        f"-XMP-xmp:CreatorTool={SOFTWARE}",
        f"-ICC_Profile<={path.parent / 'traced.icc'}",
    ]
    if thumbnail is not None:
        arguments.append(f"-ThumbnailImage<={thumbnail}")
    _run(exiftool, "-q", "-overwrite_original", *arguments, *extra, str(path))


def build_images(folder: Path) -> dict[str, Path]:
    """A JPEG (with a JFIF thumbnail, a JFXX thumbnail and an EXIF one), a PNG and a WebP, each
    given an author, a camera, GPS, software, times, XMP and a telling colour profile."""
    exiftool = tool("exiftool")
    (folder / "traced.icc").write_bytes(traced_profile())
    thumbnail = _thumbnail(folder)
    files = {}

    out = io.BytesIO()
    _picture().save(out, "JPEG", quality=90)
    data = out.getvalue()
    # The JFIF header (APP0, right after SOI) with a 2x2 RGB thumbnail, then a JFXX segment.
    jfif = b"JFIF\x00\x01\x02\x01\x00\x48\x00\x48\x02\x02" + bytes(range(12))
    segment = b"\xff\xe0" + (len(jfif) + 2).to_bytes(2, "big") + jfif
    assert data[2:4] == b"\xff\xe0"
    after_app0 = 4 + int.from_bytes(data[4:6], "big")
    files["jpeg"] = folder / "photo.jpg"
    files["jpeg"].write_bytes(data[:2] + segment + _jfxx_segment() + data[after_app0:])
    _write_tags(
        exiftool, files["jpeg"], thumbnail, f"-Comment=taken by {AUTHOR}", "-IPTC:By-line=" + AUTHOR
    )

    files["png"] = folder / "picture.png"
    _picture().save(files["png"], "PNG")
    _write_tags(
        exiftool,
        files["png"],
        None,
        f"-PNG:Author={AUTHOR}",
        f"-PNG:Software={SOFTWARE}",
        "-PNG:CreationTime=2019:07:14 09:30:00",
        "-PNG:ModifyDate=2019:07:14 09:30:00",
        f"-PNG:ProfileName={AUTHOR}",
    )

    files["webp"] = folder / "picture.webp"
    _picture().save(files["webp"], "WEBP", quality=80)
    _write_tags(exiftool, files["webp"], None)
    return files


def build_pdf(folder: Path, photo: Path) -> Path:
    """A PDF with every hiding place the PDF cleaner must empty: document information and XMP,
    XMP on a picture and on the page, the JPEG ``photo`` as a picture (with its EXIF when it
    is the exiftool-tagged one), an ICC colour profile, private
    application data, a page's /LastModified and thumbnail, comments with author, name and
    times, a file attachment annotation and an embedded file named with a Windows user's path,
    JavaScript on opening, in the name tree and in an annotation's actions."""
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(300, 200))
    font = pdf.make_indirect(
        Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica)
    )
    with Image.open(photo) as image:
        width, height = image.size
    picture = pdf.make_stream(photo.read_bytes())
    picture.Type, picture.Subtype = Name.XObject, Name.Image
    picture.Width, picture.Height, picture.BitsPerComponent = width, height, 8
    picture.ColorSpace = Array([Name.ICCBased, pdf.make_stream(traced_profile(), N=3)])
    picture.Filter = Name.DCTDecode
    picture.Metadata = _xmp_stream(pdf)
    page.Resources = Dictionary(Font=Dictionary(F1=font), XObject=Dictionary(Im1=picture))
    page.Contents = pdf.make_stream(
        f"BT /F1 10 Tf 10 150 Td ({PDF_TEXT}) Tj ET q 96 0 0 64 10 20 cm /Im1 Do Q".encode()
    )
    page.obj.LastModified = String("D:20190714093000+02'00'")
    page.obj.Metadata = _xmp_stream(pdf)
    page.obj.PieceInfo = Dictionary(
        Illustrator=Dictionary(LastModified=String("D:20190714093000"), Private=String(AUTHOR))
    )
    page.obj.Thumb = pdf.make_stream(b"\x00" * 48, Width=4, Height=4, BitsPerComponent=8)
    embedded = pdf.make_stream(
        b"draft minutes written by " + AUTHOR.encode(), Type=Name.EmbeddedFile
    )
    embedded.Params = Dictionary(ModDate=String("D:20190714093000"))
    filespec = pdf.make_indirect(
        Dictionary(Type=Name.Filespec, F=String(PATH), UF=String(PATH), EF=Dictionary(F=embedded))
    )
    script = pdf.make_indirect(Dictionary(S=Name.JavaScript, JS=String(f"app.alert('{AUTHOR}')")))
    comment = Dictionary(
        Type=Name.Annot,
        Subtype=Name.Text,
        Rect=Array([10, 10, 30, 30]),
        Contents=String("check this"),
        T=String(AUTHOR),
        NM=String(NICKNAME),
        M=String("D:20190714093000"),
        CreationDate=String("D:20190714093000"),
        AA=Dictionary(E=script),
    )
    attachment = Dictionary(
        Type=Name.Annot,
        Subtype=Name.FileAttachment,
        Rect=Array([40, 10, 60, 30]),
        FS=filespec,
        T=String(AUTHOR),
    )
    page.Annots = pdf.make_indirect(Array([comment, attachment]))
    pdf.Root.Names = Dictionary(
        EmbeddedFiles=Dictionary(Names=Array([String(PATH), filespec])),
        JavaScript=Dictionary(Names=Array([String("greeting"), script])),
    )
    pdf.Root.OpenAction = script
    pdf.docinfo["/Author"] = AUTHOR
    pdf.docinfo["/Creator"] = CAMERA_MODEL
    pdf.docinfo["/Producer"] = SOFTWARE
    pdf.docinfo["/CreationDate"] = "D:20190714093000"
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:creator"] = [AUTHOR]
        meta["xmp:CreatorTool"] = SOFTWARE
    path = folder / "document.pdf"
    pdf.save(path)
    return path


def pdf_with_form_field(signed: bool) -> bytes:
    """A one-page PDF with a form field (a text field, or a signature field signed in the
    name of :data:`AUTHOR`) and an author in its document information."""
    pdf = pikepdf.new()
    page = pdf.add_blank_page()
    field = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.Widget,
            FT=pikepdf.Name.Sig if signed else pikepdf.Name.Tx,
            T=pikepdf.String("amount"),
            Rect=[10, 10, 100, 30],
            M=pikepdf.String("D:20190714093000"),
            P=page.obj,
        )
    )
    if signed:
        field.V = pdf.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Sig,
                Filter=pikepdf.Name("/Adobe.PPKLite"),
                ByteRange=[0, 10, 20, 30],
                Contents=pikepdf.String(b"\x00" * 64),
                Name=pikepdf.String(AUTHOR),
            )
        )
    page.Annots = pdf.make_indirect(pikepdf.Array([field]))
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array([field]))
    pdf.docinfo["/Author"] = AUTHOR
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _xmp_stream(pdf: pikepdf.Pdf) -> pikepdf.Stream:
    xmp = (
        '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:xmp="http://ns.adobe.com/xap/1.0/">'
        f"<dc:creator><rdf:Seq><rdf:li>{AUTHOR}</rdf:li></rdf:Seq></dc:creator>"
        f"<xmp:CreatorTool>{SOFTWARE}</xmp:CreatorTool>"
        "<xmp:ModifyDate>2019-07-14T09:30:00Z</xmp:ModifyDate>"
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    )
    return pdf.make_stream(xmp.encode(), Type=Name.Metadata, Subtype=Name.XML)


def exiftool_findings(path: Path) -> list[str]:
    """Every tag exiftool reads in ``path`` (embedded documents included) that names who, with
    what, where or when, or holds a planted value; the file's own system properties excepted."""
    output = _run(
        tool("exiftool"), "-j", "-a", "-G1", "-ee", "-api", "LargeFileSupport=1", str(path)
    )
    findings = []
    for key, value in json.loads(output)[0].items():
        group, _, name = key.rpartition(":")
        if key == "SourceFile" or group in {"System", "ExifTool"}:
            continue
        if _finding(name, str(value)):
            findings.append(f"{key}={value}")
    return findings


def mat2_findings(path: Path) -> list[str] | None:
    """What ``mat2 --show`` lists for ``path`` that names who, with what, where or when (it
    also lists what only describes the picture: colour primaries, resolution, format), or None
    when mat2 does not read this format (Debian 12's mat2 0.13 does not read WebP)."""
    output = _run(tool("mat2"), "--show", str(path))
    lines = output.splitlines()
    if lines and "is not supported" in lines[0]:
        return None
    findings = []
    for line in lines[1:]:
        name, _, value = line.strip().partition(":")
        if name and _finding(name, value.strip()):
            findings.append(line.strip())
    return findings
