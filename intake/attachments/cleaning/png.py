"""PNG: keep the chunks that draw the image, drop text, EXIF, times and private chunks.

Kept: every critical chunk (IHDR, PLTE, IDAT, IEND) and the ancillary chunks that affect how
the image looks (transparency, colour space, gamma, density, animation). The colour profile
(iCCP) is kept with a neutral name (the name is free text) and its identifying parts scrubbed by
:mod:`.icc`. Dropped: tEXt, zTXt, iTXt (author, software, comments, XMP), eXIf (EXIF incl. GPS),
tIME, and any other ancillary chunk. Data after IEND is dropped. Streams chunk by chunk; only
the colour profile is held in memory, up to :data:`.icc.MAX_PROFILE`.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import BinaryIO

from intake.attachments.cleaning import icc
from intake.attachments.cleaning.errors import N_, Unreadable

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_DISPLAY = {
    b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"sBIT", b"bKGD", b"pHYs", b"cICP", b"mDCV",
    b"cLLI", b"acTL", b"fcTL", b"fdAT", b"hIST", b"sPLT",
}  # fmt: skip
_NAMES = {
    b"tEXt": N_("text fields (author, software, comments)"),
    b"zTXt": N_("text fields (author, software, comments)"),
    b"iTXt": N_("text fields and XMP metadata"),
    b"eXIf": N_("EXIF data (camera, GPS position, times)"),
    b"tIME": N_("modification time"),
}
_COPY = 65536
_PROFILE_NAME = b"ICC profile"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        len(data).to_bytes(4, "big")
        + kind
        + data
        + zlib.crc32(data, zlib.crc32(kind)).to_bytes(4, "big")
    )


def _clean_profile(data: bytes) -> bytes | None:
    """The iCCP chunk's data with a neutral name and a scrubbed profile, or None to drop it."""
    name_end = data.find(b"\x00", 0, 80)
    if name_end < 1 or data[name_end + 1 : name_end + 2] != b"\x00":
        return None
    inflater = zlib.decompressobj()
    try:
        profile = inflater.decompress(data[name_end + 2 :], icc.MAX_PROFILE + 1)
        profile = icc.scrub_profile(profile) if len(profile) <= icc.MAX_PROFILE else b""
    except (zlib.error, Unreadable):
        return None
    if not profile:
        return None
    return _PROFILE_NAME + b"\x00\x00" + zlib.compress(profile, 9)


def _exact(source: BinaryIO, count: int) -> bytes:
    data = source.read(count)
    if len(data) != count:
        raise Unreadable(N_("the PNG image is cut short"))
    return data


def clean_png(source: BinaryIO, write: Callable[[bytes], object]) -> tuple[str, ...]:
    if _exact(source, 8) != SIGNATURE:
        raise Unreadable(N_("this is not a PNG image"))
    write(SIGNATURE)
    removed: list[str] = []
    first = True
    while True:
        header = _exact(source, 8)
        length = int.from_bytes(header[:4], "big")
        kind = header[4:]
        if length > 2**31 - 1 or not kind.isalpha():
            raise Unreadable(N_("the PNG image has a damaged chunk"))
        if first and kind != b"IHDR":
            raise Unreadable(N_("the PNG image does not start with its header"))
        first = False
        critical = kind[0:1].isupper()
        if kind == b"iCCP":
            _profile_chunk(source, length, write, removed)
            continue
        keep = critical or kind in _DISPLAY
        if keep:
            write(header)
        else:
            removed.append(_NAMES.get(kind, N_("other application data")))
        crc = zlib.crc32(kind)
        remaining = length
        while remaining:
            piece = _exact(source, min(_COPY, remaining))
            crc = zlib.crc32(piece, crc)
            if keep:
                write(piece)
            remaining -= len(piece)
        stored_crc = _exact(source, 4)
        if int.from_bytes(stored_crc, "big") != crc:
            raise Unreadable(N_("the PNG image is damaged (a checksum does not match)"))
        if keep:
            write(stored_crc)
        if kind == b"IEND":
            if source.read(1):
                removed.append(N_("data after the end of the image"))
            return tuple(dict.fromkeys(removed))


def _profile_chunk(
    source: BinaryIO, length: int, write: Callable[[bytes], object], removed: list[str]
) -> None:
    """Read an iCCP chunk (skipping one too large to hold) and write its cleaned form."""
    crc = zlib.crc32(b"iCCP")
    held = length <= icc.MAX_PROFILE
    data = bytearray()
    remaining = length
    while remaining:
        piece = _exact(source, min(_COPY, remaining))
        crc = zlib.crc32(piece, crc)
        if held:
            data += piece
        remaining -= len(piece)
    if int.from_bytes(_exact(source, 4), "big") != crc:
        raise Unreadable(N_("the PNG image is damaged (a checksum does not match)"))
    removed.append(icc.REMOVED)
    cleaned = _clean_profile(bytes(data)) if held else None
    if cleaned is not None:
        write(_chunk(b"iCCP", cleaned))
