"""Recognising a file's format from its first bytes (never from its name or declared type)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import BinaryIO

from intake.attachments.cleaning.errors import N_
from intake.attachments.cleaning.isolated import clean_in_child
from intake.attachments.cleaning.jpeg import clean_jpeg
from intake.attachments.cleaning.office import clean_office
from intake.attachments.cleaning.png import SIGNATURE as PNG_SIGNATURE
from intake.attachments.cleaning.png import clean_png
from intake.attachments.cleaning.webp import clean_webp

Cleaner = Callable[[BinaryIO, Callable[[bytes], object]], tuple[str, ...]]


@dataclass(frozen=True)
class Format:
    key: str
    label: str  # what the reporter and staff are told the file is
    content_type: str
    cleaner: Callable[..., tuple[str, ...]] | None
    whole_file: bool = False  # the cleaner needs the document in memory: size-limited
    advice: str = ""

    def cleaner_for(self, size: int) -> Cleaner | None:
        if self.cleaner is None:
            return None
        if self.key == "office":
            return partial(self.cleaner, archive_size=size)
        return self.cleaner


GENERIC_ADVICE = N_(
    "Files of this kind can carry hidden details about who made them (names, devices, places, "
    "times) that Quietline cannot remove. If that worries you, send a screenshot or a printout "
    "photographed with a camera app that does not record location instead."
)

FORMATS = {
    "jpeg": Format("jpeg", N_("JPEG image"), "image/jpeg", clean_jpeg),
    "png": Format("png", N_("PNG image"), "image/png", clean_png),
    "webp": Format("webp", N_("WebP image"), "image/webp", clean_webp),
    "pdf": Format(
        "pdf",
        N_("PDF document"),
        "application/pdf",
        partial(clean_in_child, "pdf"),
        whole_file=True,
    ),
    "office": Format(
        "office", N_("Office document"), "application/octet-stream", clean_office, whole_file=True
    ),
    "heic": Format(
        "heic",
        N_("HEIC/HEIF image"),
        "image/heic",
        None,
        advice=N_(
            "HEIC photos keep their EXIF data (camera, GPS position, times) here. If that "
            "worries you, take a screenshot of the photo and send the screenshot instead, or "
            "export it as JPEG without location."
        ),
    ),
    "other": Format(
        "other",
        N_("file of another kind"),
        "application/octet-stream",
        None,
        advice=GENERIC_ADVICE,
    ),
}

OFFICE_TYPES = {
    b"[Content_Types].xml": "Office Open XML document",
    b"mimetypeapplication/vnd.oasis.opendocument": "OpenDocument file",
}
HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif"}


def detect(head: bytes) -> Format:
    """The format the first bytes show (up to a few KiB of them)."""
    if head.startswith(b"\xff\xd8\xff"):
        return FORMATS["jpeg"]
    if head.startswith(PNG_SIGNATURE):
        return FORMATS["png"]
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return FORMATS["webp"]
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        return FORMATS["heic"]
    if b"%PDF-" in head[:1024]:
        return FORMATS["pdf"]
    if head.startswith(b"PK\x03\x04"):
        return FORMATS["office"] if _looks_like_office(head) else FORMATS["other"]
    return FORMATS["other"]


def _looks_like_office(head: bytes) -> bool:
    """An OOXML package names its content types part, an ODF one starts with its mimetype."""
    return any(marker in head for marker in OFFICE_TYPES) or (
        b"word/" in head or b"xl/" in head or b"ppt/" in head or b"docProps/" in head
    )


def claimed_format(filename: str) -> str | None:
    """The format a file name's extension claims, to tell a reporter when content differs."""
    extension = filename.rpartition(".")[2].lower() if "." in filename else ""
    return {
        "jpg": "jpeg",
        "jpeg": "jpeg",
        "png": "png",
        "webp": "webp",
        "heic": "heic",
        "heif": "heic",
        "pdf": "pdf",
        "docx": "office",
        "xlsx": "office",
        "pptx": "office",
        "odt": "office",
        "ods": "office",
        "odp": "office",
    }.get(extension)
