"""PDF: walk every object the document still uses and remove what can name a person, a device,
a place, a program or a time, or carry another file or a script.

Metadata in a PDF is not only the document information dictionary: any object (a page, a
picture, a font) can carry its own XMP stream, application data (``/PieceInfo``) and
modification time (``/LastModified``); annotations keep their author (``/T``), a unique name
(``/NM``) and times; files travel inside (the ``/EmbeddedFiles`` name tree, file-attachment
annotations, associated files ``/AF``), often named with the sender's own folder path; scripts
and actions run or reach out on opening (``/OpenAction``, ``/AA``, JavaScript, launch and
remote actions). So the cleaner visits every object reachable from the trailer, once each,
and removes all of these; JPEG pictures inside go through the JPEG cleaner and colour profiles
through :mod:`.icc`. A digitally signed PDF is not cleaned: rewriting it would break the
signature, which may be the very evidence sent; the reporter is told so.

Uses pikepdf (qpdf), which reads the input through a seekable file object and writes the output
as a stream: only objects still reachable are written (earlier revisions and orphaned objects
are gone), and the file identifier is regenerated from the content, so the cleaned copy cannot
be matched to the original by its /ID. It holds the document's object graph in memory, so PDFs
are cleaned in a limited child process (:mod:`.isolated`) and only up to a configured size.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable, Iterator
from typing import BinaryIO

import pikepdf
from pikepdf import Array, Dictionary, Name, Stream

from intake.attachments.cleaning import icc
from intake.attachments.cleaning.errors import N_, Unreadable
from intake.attachments.cleaning.jpeg import clean_jpeg
from intake.attachments.cleaning.sink import InPlaceSeekSink

INFO = N_("document information (author, title, software, dates)")
XMP = N_("XMP metadata (author, software, history)")
PRIVATE = N_("private application data")
TIMES = N_("modification times")
COMMENTS = N_("comment authors and times")
FILES = N_("embedded files")
SCRIPTS = N_("scripts and automatic actions")
THUMBNAILS = N_("page thumbnails")
PICTURES = N_("metadata of pictures in the document (EXIF, GPS, ...)")
FORMS = N_("form data packets (XFA)")
WEB_CAPTURE = N_("web capture information (addresses, times)")
RIGHTS = N_("usage rights signature")
SIGNED = N_("the PDF carries a digital signature, which cleaning would break")

# Keys whose presence anywhere is metadata: removed from every dictionary and stream.
_DROPPED_KEYS = {
    "/Metadata": XMP,
    "/PieceInfo": PRIVATE,
    "/LastModified": TIMES,
    "/AA": SCRIPTS,
    "/OpenAction": SCRIPTS,
    "/AF": FILES,
    "/EF": FILES,
    "/RF": FILES,
    "/Thumb": THUMBNAILS,
}
# Actions that run code, open or fetch other files, or send data: removed where they appear.
_ACTIONS = {
    "/JavaScript", "/Launch", "/GoToR", "/GoToE", "/SubmitForm", "/ImportData", "/Rendition",
    "/Sound", "/Movie", "/RichMediaExecute", "/Hide", "/SetOCGState", "/Trans", "/GoTo3DView",
}  # fmt: skip
# Annotations that are files or media: removed from their page.
_FILE_ANNOTATIONS = {"/FileAttachment", "/Sound", "/Movie", "/Screen", "/RichMedia"}
_SIGNATURES = {"/Sig", "/DocTimeStamp"}
_ANNOTATION_TRACES = ("/T", "/NM", "/M", "/CreationDate")
_WIDGET_TRACES = ("/NM", "/M", "/CreationDate")  # a form field's /T is its name, not an author


class _Cleaner:
    def __init__(self, pdf: pikepdf.Pdf) -> None:
        self.pdf = pdf
        self.removed: list[str] = []

    def note(self, what: str) -> None:
        self.removed.append(what)

    def run(self) -> tuple[str, ...]:
        pdf = self.pdf
        if "/Info" in pdf.trailer:
            info = pdf.trailer.Info
            if not isinstance(info, Dictionary) or len(info.keys()):
                self.note(INFO)
            del pdf.trailer["/Info"]
        root = pdf.Root
        self._document(root)
        for obj in _reachable(pdf.trailer):
            if isinstance(obj, Array):
                self._array(obj)
            else:
                self._dictionary(obj)
        return tuple(dict.fromkeys(self.removed))

    def _document(self, root: Dictionary) -> None:
        """What only the catalog holds: name trees of files and scripts, forms, rights."""
        names = root.get("/Names")
        if isinstance(names, Dictionary):
            for key, what in (("/EmbeddedFiles", FILES), ("/JavaScript", SCRIPTS)):
                if key in names:
                    self.note(what)
                    del names[key]
        for key, what in (("/Collection", FILES), ("/SpiderInfo", WEB_CAPTURE)):
            if key in root:
                self.note(what)
                del root[key]
        form = root.get("/AcroForm")
        if isinstance(form, Dictionary) and "/XFA" in form:
            self.note(FORMS)
            del form["/XFA"]
        perms = root.get("/Perms")
        if isinstance(perms, Dictionary):
            for key in ("/UR", "/UR3"):  # reader-extension rights, void once the file changes
                if key in perms:
                    self.note(RIGHTS)
                    del perms[key]
            if not len(perms.keys()):
                del root["/Perms"]

    def _dictionary(self, obj: Dictionary | Stream) -> None:
        if str(obj.get("/Type")) in _SIGNATURES or (obj.get("/FT") == Name.Sig and "/V" in obj):
            raise Unreadable(SIGNED)
        for key, what in _DROPPED_KEYS.items():
            if key in obj:
                if key != "/OpenAction" or isinstance(obj[key], Dictionary):
                    self.note(what)
                del obj[key]
        for key in ("/A", "/Next"):
            value = obj.get(key)
            if _is_action(value):
                self.note(SCRIPTS)
                del obj[key]
            elif key == "/Next" and isinstance(value, Array):
                kept = [item for item in value if not _is_action(item)]
                if len(kept) != len(value):
                    self.note(SCRIPTS)
                    obj[key] = Array(kept)
        if "/JS" in obj:
            self.note(SCRIPTS)
            del obj["/JS"]
        annotations = obj.get("/Annots")
        if isinstance(annotations, Array):
            kept = [item for item in annotations if not _is_file_annotation(item)]
            if len(kept) != len(annotations):
                self.note(FILES)
                obj["/Annots"] = Array(kept)
        if "/Rect" in obj and isinstance(obj.get("/Subtype"), Name):
            traces = _WIDGET_TRACES if obj.Subtype == Name.Widget else _ANNOTATION_TRACES
            for key in traces:
                if key in obj:
                    self.note(COMMENTS)
                    del obj[key]
        if obj.get("/Type") == Name.Filespec:
            self._file_name(obj)
        if obj.get("/Type") == Name.Thread and "/I" in obj:
            self.note(INFO)
            del obj["/I"]
        if "/DestOutputProfile" in obj:
            self._profile(obj.DestOutputProfile)
        if isinstance(obj, Stream) and obj.get("/Subtype") == Name.Image:
            self._picture(obj)

    def _file_name(self, filespec: Dictionary) -> None:
        """A file specification still in use keeps no path (they often name the sender's own
        folders, ``C:\\Users\\...``): a neutral name takes its place."""
        paths = [key for key in ("/F", "/UF", "/DOS", "/Mac", "/Unix", "/Desc") if key in filespec]
        if paths:
            self.note(FILES)
            for key in paths:
                del filespec[key]
            filespec.F = pikepdf.String("file")

    def _array(self, array: Array) -> None:
        if len(array) == 2 and array[0] == Name.ICCBased:
            self._profile(array[1])

    def _profile(self, stream: object) -> None:
        if not isinstance(stream, Stream):
            return
        try:
            profile = stream.read_bytes()
            cleaned = icc.scrub_profile(profile)
        except (pikepdf.PdfError, Unreadable):
            return  # a profile the viewer cannot use either: left as it is
        if cleaned != profile:
            self.note(icc.REMOVED)
            stream.write(zlib.compress(cleaned), filter=Name.FlateDecode)

    def _picture(self, stream: Stream) -> None:
        """A JPEG picture keeps its compressed data, less its EXIF, XMP and thumbnails."""
        if _filters(stream) != ["/DCTDecode"]:
            return
        original = stream.read_raw_bytes()
        cleaned = io.BytesIO()
        try:
            if clean_jpeg(io.BytesIO(original), cleaned.write):
                self.note(PICTURES)
        except Unreadable:
            return  # not a JPEG the viewer could show either: left as it is
        if cleaned.getvalue() != original:
            parameters = stream.get("/DecodeParms")
            stream.write(cleaned.getvalue(), filter=Name.DCTDecode, decode_parms=parameters)


def _is_action(item: object) -> bool:
    return isinstance(item, Dictionary) and str(item.get("/S")) in _ACTIONS


def _is_file_annotation(item: object) -> bool:
    return isinstance(item, Dictionary) and str(item.get("/Subtype")) in _FILE_ANNOTATIONS


def _filters(stream: Stream) -> list[str]:
    value = stream.get("/Filter")
    if isinstance(value, Array):
        return [str(item) for item in value]
    return [] if value is None else [str(value)]


def _reachable(start: Dictionary) -> Iterator[Dictionary | Stream | Array]:
    """Every dictionary, stream and array reachable from ``start``, each indirect object once.

    The value under each key is looked up again after the caller has handled its parent, so
    nothing the caller removed is visited.
    """
    seen: set[tuple[int, int]] = set()
    stack: list[object] = [start]
    while stack:
        obj = stack.pop()
        if not isinstance(obj, (Dictionary, Stream, Array)):
            continue
        if obj.is_indirect:
            if obj.objgen in seen:
                continue
            seen.add(obj.objgen)
        yield obj
        if isinstance(obj, Array):
            stack.extend(reversed(list(obj)))
        else:
            stack.extend(obj[key] for key in reversed(list(obj.keys())))


def clean_pdf(source: BinaryIO, write: Callable[[bytes], object]) -> tuple[str, ...]:
    try:
        pdf = pikepdf.open(source)
    except pikepdf.PasswordError as exc:
        raise Unreadable(N_("the PDF is protected by a password")) from exc
    except pikepdf.PdfError as exc:
        raise Unreadable(N_("this is not a readable PDF")) from exc
    with pdf:
        removed = _Cleaner(pdf).run()
        pdf.save(
            InPlaceSeekSink(write),  # type: ignore[arg-type]
            deterministic_id=True,
            fix_metadata_version=False,
        )
    return removed
