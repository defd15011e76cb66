"""The organisation's logo, as an administrator uploads it: PNG or JPEG only, read in full.

Every page carries the logo inline (a ``data:`` address), so a reporter's page makes no request
for it; its stored size is therefore small (:data:`MAX_BYTES`). A file is accepted only when it
is wholly what it claims: a PNG's chunks all check (CRC), its image data decompresses to exactly
the size its header announces, and nothing follows its end; a JPEG's segments all parse, it has
a frame and a scan, and nothing follows its end marker. SVG (which can carry script and
references to other sites), and any other format, is refused. What is kept drops the text and
metadata chunks or segments (author, software, EXIF, comments).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from intake.errors import InvalidInput
from intake.i18n import N_, Size

MAX_BYTES = 5 * 1024  # base64 in each page: about 6.8 KB of the 16 KB a reporter page may weigh
MAX_SIDE = 2000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The PNG chunks that draw the image; everything else (text, EXIF, times) is dropped.
_PNG_KEPT = {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND", b"gAMA", b"sRGB", b"cHRM"}
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # PNG colour type → samples per pixel
# JPEG markers that stand alone (no length): the restart markers, SOI, EOI, TEM.
_STANDALONE = {0xD8, 0xD9, 0x01, *range(0xD0, 0xD8)}
_FRAMES = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
# Kept: tables, frame, scan, restart interval; APP14 (Adobe: how the colours are encoded).
_JPEG_KEPT = {0xC4, 0xDB, 0xDD, 0xCC, 0xEE, 0xDA, *_FRAMES}


@dataclass(frozen=True)
class Logo:
    media_type: str  # "image/png" or "image/jpeg"
    data: bytes


def _unreadable() -> InvalidInput:
    return InvalidInput(
        N_("The logo could not be read as a PNG or JPEG image. Export it again as PNG or JPEG."),
        field="logo",
    )


def check(data: bytes) -> Logo:
    """The logo as it will be stored, or InvalidInput saying what is wrong with the file."""
    if data.startswith(PNG_SIGNATURE):
        logo = Logo("image/png", _png(data))
    elif data.startswith(b"\xff\xd8\xff"):
        logo = Logo("image/jpeg", _jpeg(data))
    elif b"<svg" in data[:1024].lower() or data.lstrip().startswith(b"<"):
        raise InvalidInput(
            N_("The logo must be a PNG or JPEG image: SVG and other drawings are not accepted."),
            field="logo",
        )
    else:
        raise _unreadable()
    if len(logo.data) > MAX_BYTES:
        raise InvalidInput(
            N_("The logo is too large: %(size)s once cleaned, at most %(limit)s. Make it smaller."),
            field="logo",
            size=Size(len(logo.data)),
            limit=Size(MAX_BYTES),
        )
    return logo


def _png(data: bytes) -> bytes:
    position, kept, image, header = len(PNG_SIGNATURE), [PNG_SIGNATURE], [], None
    while True:
        if position + 12 > len(data):
            raise _unreadable()
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        end = position + 12 + length
        if end > len(data):
            raise _unreadable()
        body = data[position + 8 : end - 4]
        if zlib.crc32(kind + body) != struct.unpack(">I", data[end - 4 : end])[0]:
            raise _unreadable()
        if header is None and kind != b"IHDR":
            raise _unreadable()
        if kind == b"IHDR":
            header = _png_header(body)
        elif kind == b"IDAT":
            image.append(body)
        if kind in _PNG_KEPT:
            kept.append(data[position:end])
        position = end
        if kind == b"IEND":
            break
    if position != len(data) or header is None or not image:
        raise _unreadable()  # data after the end, or no image at all
    _png_decodes(b"".join(image), *header)
    return b"".join(kept)


def _png_header(body: bytes) -> tuple[int, int, int, int, int]:
    if len(body) != 13:
        raise _unreadable()
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE) or colour not in _CHANNELS:
        raise _unreadable()
    if depth not in (1, 2, 4, 8, 16):
        raise _unreadable()
    return width, height, depth, _CHANNELS[colour], interlace


def _png_decodes(compressed: bytes, width: int, height: int, depth: int, channels: int,
                 interlace: int) -> None:  # fmt: skip
    """The image data inflates to exactly the rows the header announces (no more is read)."""
    if interlace:
        passes = [(8, 8, 0, 0), (8, 8, 4, 0), (8, 4, 0, 4), (4, 4, 2, 0), (4, 2, 0, 2),
                  (2, 2, 1, 0), (2, 1, 0, 1)]  # fmt: skip
        sizes = [
            ((width - x0 + dx - 1) // dx, (height - y0 + dy - 1) // dy) for dx, dy, x0, y0 in passes
        ]
    else:
        sizes = [(width, height)]
    expected = sum(
        rows * (1 + (columns * channels * depth + 7) // 8)
        for columns, rows in sizes
        if columns and rows
    )
    inflater = zlib.decompressobj()
    try:
        inflated = inflater.decompress(compressed, expected + 1)
    except zlib.error:
        raise _unreadable() from None
    if len(inflated) != expected or not inflater.eof or inflater.unused_data:
        raise _unreadable()


def _jpeg(data: bytes) -> bytes:
    position, kept, framed, scanned = 2, [b"\xff\xd8"], False, False
    while True:
        if position + 2 > len(data) or data[position] != 0xFF:
            raise _unreadable()
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0xD9:
            kept.append(b"\xff\xd9")
            position += 2
            break
        if marker in _STANDALONE:
            raise _unreadable()
        if position + 4 > len(data):
            raise _unreadable()
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        end = position + 2 + length
        if length < 2 or end > len(data):
            raise _unreadable()
        if marker in _FRAMES:
            framed = _jpeg_frame(data[position + 4 : end])
        if marker in _JPEG_KEPT:
            kept.append(data[position:end])
        position = end
        if marker == 0xDA:
            if not framed:
                raise _unreadable()
            scanned = True
            position = _entropy_end(data, position)
            kept.append(data[end:position])
    if position != len(data) or not scanned:
        raise _unreadable()  # data after the end marker, or no scan
    return b"".join(kept)


def _jpeg_frame(body: bytes) -> bool:
    if len(body) < 6:
        raise _unreadable()
    _, height, width, components = struct.unpack(">BHHB", body[:6])
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE) or components not in (1, 3, 4):
        raise _unreadable()
    return True


def _entropy_end(data: bytes, position: int) -> int:
    """Where a scan's entropy-coded data ends: at the first marker that is not a stuffed zero
    byte or a restart marker."""
    while True:
        found = data.find(b"\xff", position)
        if found < 0 or found + 1 >= len(data):
            raise _unreadable()
        following = data[found + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:
            position = found + 2
            continue
        return found
