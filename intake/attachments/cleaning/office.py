"""Office Open XML (.docx, .xlsx, .pptx) and OpenDocument (.odt, .ods, .odp): remove document
properties, comment and revision authors, revision identifiers and times.

Both are ZIP archives of XML parts. The archive is rewritten member by member, in order and with
each member's compression: the property parts are replaced by empty ones, the XML parts that can
hold people's names are rewritten (lxml, which keeps namespace prefixes as Office needs them,
with entity expansion and network access off), everything else is copied as it is.

A ZIP bomb cannot expand unbounded: the archive's members, their total expanded size and its
ratio to the archive's size are capped, each XML part read into memory is capped, and a breach
stops cleaning (the file is then kept as uploaded and flagged).
"""

from __future__ import annotations

import functools
import zipfile
import zlib
from collections.abc import Callable
from types import ModuleType
from typing import Any, BinaryIO

from intake.attachments.cleaning.errors import N_, Unreadable
from intake.attachments.cleaning.jpeg import clean_jpeg
from intake.attachments.cleaning.png import SIGNATURE as PNG_SIGNATURE
from intake.attachments.cleaning.png import clean_png
from intake.attachments.cleaning.sink import ForwardSink

MAX_MEMBERS = 5000
MAX_XML_PART = 32 * 1024 * 1024
MAX_EXPANDED = 1024 * 1024 * 1024
MAX_RATIO = 200
_COPY = 65536

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
CORE_OOXML = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
    b'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"/>'
)
APP_OOXML = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-'
    b'properties"/>'
)
CUSTOM_OOXML = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-'
    b'properties"/>'
)
META_ODF = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    b'office:version="1.2"><office:meta/></office:document-meta>'
)
REPLACED = {
    "docProps/core.xml": (CORE_OOXML, N_("document properties (author, last editor, dates)")),
    "docProps/app.xml": (APP_OOXML, N_("application properties (company, manager, software)")),
    "docProps/custom.xml": (CUSTOM_OOXML, N_("custom document properties")),
    "meta.xml": (META_ODF, N_("document properties (author, last editor, dates)")),
}
# Attributes (by local name) whose value names a person: emptied wherever they appear.
PERSON_ATTRIBUTES = {"author", "initials", "userId", "providerId", "displayName"}
# Elements whose text names a person or a time: emptied.
PERSON_ELEMENTS = {
    "{http://purl.org/dc/elements/1.1/}creator",
    "{http://purl.org/dc/elements/1.1/}date",
    "{urn:oasis:names:tc:opendocument:xmlns:meta:1.0}creator-initials",
    "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}author",
}
# p:cmAuthor carries the name in a generic "name" attribute.
CM_AUTHOR = "{http://schemas.openxmlformats.org/presentationml/2006/main}cmAuthor"


@functools.cache
def _etree() -> ModuleType:
    """lxml, imported with the first Office file: most reports carry none, and it costs the
    server process about 5 MB of memory."""
    from lxml import etree

    return etree


@functools.cache
def _parser() -> Any:
    return _etree().XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False
    )


def _rewrite_xml(data: bytes) -> tuple[bytes, list[str]]:
    etree = _etree()
    root = etree.fromstring(data, parser=_parser())
    found: list[str] = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag in PERSON_ELEMENTS and (element.text or "").strip():
            element.text = ""
            found.append(N_("comment and revision authors and times"))
        if element.tag == f"{{{W}}}rsids":
            element.getparent().remove(element)  # type: ignore[union-attr]
            found.append(N_("revision identifiers"))
            continue
        for name in list(element.attrib):
            namespace, _, local = name.rpartition("}")
            if local in PERSON_ATTRIBUTES or (element.tag == CM_AUTHOR and local == "name"):
                if element.attrib[name]:
                    element.attrib[name] = ""
                    found.append(N_("comment and revision authors"))
            elif namespace.endswith(W) and (local.startswith("rsid") or local == "date"):
                del element.attrib[name]
                found.append(N_("revision identifiers and times"))
            elif local == "dateUtc":
                del element.attrib[name]
                found.append(N_("revision identifiers and times"))
    out = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    return out, found


def _picture_cleaner(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo
) -> Callable[[BinaryIO, Callable[[bytes], object]], tuple[str, ...]] | None:
    """The cleaner for a JPEG or PNG picture inside the document, if it is one that parses
    (checked by a dry run, so a damaged picture is copied as it is rather than half-written)."""
    with archive.open(info) as member:
        head = member.read(8)
    cleaner = (
        clean_jpeg
        if head.startswith(b"\xff\xd8\xff")
        else clean_png
        if head.startswith(PNG_SIGNATURE)
        else None
    )
    if cleaner is None:
        return None
    try:
        with archive.open(info) as member:
            cleaner(member, lambda _data: None)  # type: ignore[arg-type]
    except Unreadable:
        return None
    return cleaner


def _read_capped(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    with archive.open(info) as member:
        data = member.read(cap + 1)
    if len(data) > cap:
        raise Unreadable(N_("a part of the document is too large to clean"))
    return data


def clean_office(
    source: BinaryIO, write: Callable[[bytes], object], *, archive_size: int
) -> tuple[str, ...]:
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise Unreadable(N_("the document's archive cannot be read")) from exc
    removed: list[str] = []
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise Unreadable(N_("the document has too many parts"))
    budget = min(MAX_EXPANDED, max(archive_size, 1) * MAX_RATIO)
    expanded = 0

    def spend(count: int) -> None:
        nonlocal expanded
        expanded += count
        if expanded > budget:
            raise Unreadable(N_("the document expands to far more than its size (a ZIP bomb?)"))

    sink = ForwardSink(write)
    out = zipfile.ZipFile(sink, "w")  # type: ignore[arg-type]
    with archive, out:
        if members and members[0].filename == "mimetype":
            _write_odf_mimetype(out, sink, _read_capped(archive, members[0], 1024))
            members = members[1:]
        for info in members:
            target = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            target.compress_type = info.compress_type
            target.external_attr = info.external_attr
            if info.filename in REPLACED:
                replacement, what = REPLACED[info.filename]
                spend(info.file_size)
                out.writestr(target, replacement)
                removed.append(what)
                continue
            if info.filename.endswith((".xml", ".rels")) and not info.is_dir():
                data = _read_capped(archive, info, MAX_XML_PART)
                spend(len(data))
                try:
                    rewritten, found = _rewrite_xml(data)
                except _etree().XMLSyntaxError as exc:
                    raise Unreadable(N_("a part of the document is not well-formed XML")) from exc
                if found:
                    removed.extend(found)
                    data = rewritten
                out.writestr(target, data)
                continue
            # zipfile never expands a member past its declared size: spend that up front.
            spend(info.file_size)
            cleaner = _picture_cleaner(archive, info) if not info.is_dir() else None
            with archive.open(info) as member, out.open(target, "w") as copy:
                if cleaner is not None:
                    found = cleaner(member, copy.write)  # type: ignore[arg-type]
                    if found:
                        removed.append(N_("metadata of pictures in the document (EXIF, GPS, ...)"))
                    continue
                while piece := member.read(_COPY):
                    copy.write(piece)
    return tuple(dict.fromkeys(removed))


def _write_odf_mimetype(out: zipfile.ZipFile, sink: ForwardSink, data: bytes) -> None:
    """OpenDocument wants ``mimetype`` first, stored, and without a data descriptor, which
    zipfile writes for every member of a forward-only output: so this one is written by hand,
    its size and checksum known in advance, and registered for the central directory."""
    info = zipfile.ZipInfo("mimetype", date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    info.file_size = info.compress_size = len(data)
    info.CRC = zlib.crc32(data)
    info.flag_bits = 0
    info.header_offset = sink.tell()
    sink.write(info.FileHeader(zip64=False) + data)
    out.filelist.append(info)
    out.NameToInfo[info.filename] = info
    out.start_dir = sink.tell()
