"""WebP: drop the EXIF and XMP chunks (and clear their flags in the VP8X header).

A WebP file is a RIFF container: ``RIFF size WEBP`` then chunks (fourcc, little-endian size,
payload, a pad byte when the size is odd). Kept: image data, alpha, animation, and the colour
profile, with its identifying parts scrubbed by :mod:`.icc` (held in memory up to
:data:`.icc.MAX_PROFILE`; a larger or damaged one is dropped). Dropped: EXIF, XMP and unknown
chunks. Two passes over the (seekable) input: the first works out the new RIFF size, the second
copies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

from intake.attachments.cleaning import icc
from intake.attachments.cleaning.errors import N_, Unreadable

_KEEP = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF"}
_NAMES = {
    b"EXIF": N_("EXIF data (camera, GPS position, times)"),
    b"XMP ": N_("XMP metadata (author, software, history)"),
}
_VP8X_EXIF = 0x08
_VP8X_XMP = 0x04
_VP8X_ICC = 0x20
_COPY = 65536


def _chunks(source: BinaryIO, riff_end: int) -> list[tuple[bytes, int, int]]:
    """(fourcc, payload offset, payload size) of every chunk."""
    found = []
    position = 12
    while position < riff_end:
        source.seek(position)
        header = source.read(8)
        if len(header) != 8:
            raise Unreadable(N_("the WebP image is cut short"))
        size = int.from_bytes(header[4:], "little")
        end = position + 8 + size + (size & 1)
        if end > riff_end + 1:
            raise Unreadable(N_("the WebP image is cut short"))
        found.append((header[:4], position + 8, size))
        position = end
    return found


def _profile(source: BinaryIO, offset: int, size: int) -> bytes | None:
    """The scrubbed colour profile of an ICCP chunk, or None to drop it."""
    if size > icc.MAX_PROFILE:
        return None
    source.seek(offset)
    data = source.read(size)
    if len(data) != size:
        raise Unreadable(N_("the WebP image is cut short"))
    try:
        return icc.scrub_profile(data)
    except Unreadable:
        return None


def clean_webp(source: BinaryIO, write: Callable[[bytes], object]) -> tuple[str, ...]:
    head = source.read(12)
    if len(head) != 12 or head[:4] != b"RIFF" or head[8:] != b"WEBP":
        raise Unreadable(N_("this is not a WebP image"))
    riff_end = 8 + int.from_bytes(head[4:8], "little")
    chunks = _chunks(source, riff_end)
    removed = [
        _NAMES.get(kind, N_("other application data"))
        for kind, _, _ in chunks
        if kind not in _KEEP and kind != b"ICCP"
    ]
    profile: bytes | None = None
    kept = []
    for kind, offset, size in chunks:
        if kind == b"ICCP" and profile is None:
            removed.append(icc.REMOVED)
            profile = _profile(source, offset, size)
            if profile is not None:
                kept.append((kind, offset, len(profile)))
        elif kind in _KEEP:
            kept.append((kind, offset, size))
    clear = _VP8X_EXIF | _VP8X_XMP | (0 if profile is not None else _VP8X_ICC)
    new_size = 4 + sum(8 + size + (size & 1) for _, _, size in kept)
    write(b"RIFF" + new_size.to_bytes(4, "little") + b"WEBP")
    for kind, offset, size in kept:
        write(kind + size.to_bytes(4, "little"))
        if kind == b"ICCP" and profile is not None:
            write(profile + bytes(size & 1))
            continue
        source.seek(offset)
        remaining = size + (size & 1)
        first = True
        while remaining:
            piece = source.read(min(_COPY, remaining))
            if not piece:
                if remaining == 1 and size & 1:  # a missing final pad byte
                    piece = b"\x00"
                else:
                    raise Unreadable(N_("the WebP image is cut short"))
            if first and kind == b"VP8X":
                piece = bytes([piece[0] & ~clear & 0xFF]) + piece[1:]
            first = False
            write(piece)
            remaining -= len(piece)
    return tuple(dict.fromkeys(removed))
