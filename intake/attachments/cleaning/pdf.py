"""PDF: remove the document information dictionary, XMP metadata, page-level metadata and
private application data, and the authors and times of annotations (comments).

Uses pikepdf (qpdf), which reads the input through a seekable file object and writes the output
as a stream; it holds the document's object graph in memory, so PDFs are cleaned only up to a
configured size. The file identifier is regenerated from the content, so the cleaned copy cannot
be matched to the original by its /ID.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

import pikepdf

from intake.attachments.cleaning.errors import Unreadable


class _Sink:
    """A forward-only output: pikepdf wants ``seek`` to exist, qpdf only ever appends."""

    def __init__(self, write: Callable[[bytes], object]) -> None:
        self._write = write
        self._position = 0

    def write(self, data: bytes) -> int:
        self._write(bytes(data))
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = 0) -> int:
        target = offset if whence == 0 else self._position + offset if whence == 1 else -1
        if target != self._position:
            raise OSError("the cleaned PDF is written forward only")
        return self._position

    def flush(self) -> None:
        return None


def clean_pdf(source: BinaryIO, write: Callable[[bytes], object]) -> tuple[str, ...]:
    removed: list[str] = []
    try:
        pdf = pikepdf.open(source)
    except pikepdf.PasswordError as exc:
        raise Unreadable("the PDF is protected by a password") from exc
    except pikepdf.PdfError as exc:
        raise Unreadable("this is not a readable PDF") from exc
    with pdf:
        if "/Info" in pdf.trailer:
            if len(pdf.trailer.Info.keys()):
                removed.append("document information (author, title, software, dates)")
            del pdf.trailer["/Info"]
        root = pdf.Root
        if "/Metadata" in root:
            removed.append("XMP metadata (author, software, history)")
            del root["/Metadata"]
        if "/PieceInfo" in root:
            removed.append("private application data")
            del root["/PieceInfo"]
        for page in pdf.pages:
            for key in ("/Metadata", "/PieceInfo"):
                if key in page.obj:
                    removed.append("page metadata")
                    del page.obj[key]
            for annotation in page.obj.get("/Annots", []):
                if not isinstance(annotation, pikepdf.Dictionary):
                    continue
                for key in ("/T", "/M", "/CreationDate"):
                    if key in annotation:
                        removed.append("comment authors and times")
                        del annotation[key]
                popup = annotation.get("/Popup")
                if isinstance(popup, pikepdf.Dictionary) and "/T" in popup:
                    del popup["/T"]
        pdf.save(
            _Sink(write),  # type: ignore[arg-type]
            deterministic_id=True,
            fix_metadata_version=False,
        )
    return tuple(dict.fromkeys(removed))
