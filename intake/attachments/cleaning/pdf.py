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

from intake.attachments.cleaning.errors import N_, Unreadable
from intake.attachments.cleaning.sink import InPlaceSeekSink


def clean_pdf(source: BinaryIO, write: Callable[[bytes], object]) -> tuple[str, ...]:
    removed: list[str] = []
    try:
        pdf = pikepdf.open(source)
    except pikepdf.PasswordError as exc:
        raise Unreadable(N_("the PDF is protected by a password")) from exc
    except pikepdf.PdfError as exc:
        raise Unreadable(N_("this is not a readable PDF")) from exc
    with pdf:
        if "/Info" in pdf.trailer:
            if len(pdf.trailer.Info.keys()):
                removed.append(N_("document information (author, title, software, dates)"))
            del pdf.trailer["/Info"]
        root = pdf.Root
        if "/Metadata" in root:
            removed.append(N_("XMP metadata (author, software, history)"))
            del root["/Metadata"]
        if "/PieceInfo" in root:
            removed.append(N_("private application data"))
            del root["/PieceInfo"]
        for page in pdf.pages:
            for key in ("/Metadata", "/PieceInfo"):
                if key in page.obj:
                    removed.append(N_("page metadata"))
                    del page.obj[key]
            for annotation in page.obj.get("/Annots", []):
                if not isinstance(annotation, pikepdf.Dictionary):
                    continue
                for key in ("/T", "/M", "/CreationDate"):
                    if key in annotation:
                        removed.append(N_("comment authors and times"))
                        del annotation[key]
                popup = annotation.get("/Popup")
                if isinstance(popup, pikepdf.Dictionary) and "/T" in popup:
                    del popup["/T"]
        pdf.save(
            InPlaceSeekSink(write),  # type: ignore[arg-type]
            deterministic_id=True,
            fix_metadata_version=False,
        )
    return tuple(dict.fromkeys(removed))
