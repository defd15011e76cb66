"""WebP: drop the EXIF and XMP chunks (and clear their flags in the VP8X header).

A WebP file is a RIFF container: ``RIFF size WEBP`` then chunks (fourcc, little-endian size,
payload, a pad byte when the size is odd). Kept: image data, alpha, animation, colour profile.
Dropped: EXIF, XMP and unknown chunks. Two passes over the (seekable) input: the first works
out the new RIFF size, the second copies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

from intake.attachments.cleaning.errors import N_, Unreadable

_KEEP = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF", b"ICCP"}
_NAMES = {
    b"EXIF": N_("EXIF data (camera, GPS position, times)"),
    b"XMP ": N_("XMP metadata (author, software, history)"),
}
_VP8X_EXIF = 0x08
_VP8X_XMP = 0x04
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


def clean_webp(source: BinaryIO, write: Callable[[bytes], object]) -> tuple[str, ...]:
    head = source.read(12)
    if len(head) != 12 or head[:4] != b"RIFF" or head[8:] != b"WEBP":
        raise Unreadable(N_("this is not a WebP image"))
    riff_end = 8 + int.from_bytes(head[4:8], "little")
    chunks = _chunks(source, riff_end)
    kept = [chunk for chunk in chunks if chunk[0] in _KEEP]
    removed = [
        _NAMES.get(kind, N_("other application data")) for kind, _, _ in chunks if kind not in _KEEP
    ]
    new_size = 4 + sum(8 + size + (size & 1) for _, _, size in kept)
    write(b"RIFF" + new_size.to_bytes(4, "little") + b"WEBP")
    for kind, offset, size in kept:
        source.seek(offset)
        write(kind + size.to_bytes(4, "little"))
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
                piece = bytes([piece[0] & ~(_VP8X_EXIF | _VP8X_XMP) & 0xFF]) + piece[1:]
            first = False
            write(piece)
            remaining -= len(piece)
    return tuple(dict.fromkeys(removed))
