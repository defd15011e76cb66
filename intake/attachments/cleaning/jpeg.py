"""JPEG: drop every application segment and comment except those needed to show the image.

A JPEG is a sequence of marker segments; the entropy-coded image data follows each SOS. Kept:
APP0 JFIF (pixel density; its optional thumbnail is cut off), APP2 ICC_PROFILE (colours, with
its identifying parts scrubbed by :mod:`.icc`), APP14 Adobe (colour transform) and every non-APP
segment (tables, frame, scans). Dropped: APP0 JFXX (the JFIF extension thumbnail, which can show
the photo as it was before cropping), APP1 (EXIF: camera, serial numbers, GPS position, times,
thumbnail; XMP), APP13 (IPTC/Photoshop), other APPn (maker data, MPF), COM (comments), and
anything after the end-of-image marker (phone "trailers", appended images). Streams in
fixed-size reads; memory stays flat, except for the colour profile, held (up to
:data:`.icc.MAX_PROFILE`) while it is rebuilt.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

from intake.attachments.cleaning import icc
from intake.attachments.cleaning.errors import N_, Unreadable

_READ = 65536
SOI, EOI, SOS, COM = 0xD8, 0xD9, 0xDA, 0xFE
_STANDALONE = {0x01, *range(0xD0, 0xD8)}
APP0, APP2 = 0xE0, 0xE2
_JFIF_HEADER = 14  # "JFIF\0", version, units, densities, thumbnail width and height
_ICC_MARK = b"ICC_PROFILE\x00"
_ICC_PIECE = 65535 - 2 - len(_ICC_MARK) - 2
THUMBNAIL = N_("thumbnail (a small copy of the picture, possibly before cropping)")


class _Input:
    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self._buffer = b""
        self._position = 0

    def _fill(self) -> bool:
        more = self._source.read(_READ)
        if not more:
            return False
        self._buffer = self._buffer[self._position :] + more
        self._position = 0
        return True

    def has_more(self) -> bool:
        return self._position < len(self._buffer) or self._fill()

    def exact(self, count: int) -> bytes:
        while len(self._buffer) - self._position < count:
            if not self._fill():
                raise Unreadable(N_("the JPEG image is cut short"))
        data = self._buffer[self._position : self._position + count]
        self._position += count
        return data

    def copy(self, count: int, write: Callable[[bytes], object] | None) -> None:
        """Pass ``count`` bytes to ``write`` (or skip them when it is None)."""
        while count:
            if self._position >= len(self._buffer) and not self._fill():
                raise Unreadable(N_("the JPEG image is cut short"))
            take = min(count, len(self._buffer) - self._position)
            if write is not None:
                write(self._buffer[self._position : self._position + take])
            self._position += take
            count -= take

    def scan_to_marker(self, write: Callable[[bytes], object]) -> int:
        """Copy entropy-coded data up to the next real marker; return that marker's code."""
        while True:
            found = self._buffer.find(b"\xff", self._position)
            while found == -1 or found + 1 >= len(self._buffer):
                if found == -1:
                    write(self._buffer[self._position :])
                    self._position = len(self._buffer)
                else:
                    write(self._buffer[self._position : found])
                    self._position = found
                if not self._fill():
                    raise Unreadable(N_("the JPEG image is cut short"))
                found = self._buffer.find(b"\xff", self._position)
            code = self._buffer[found + 1]
            if code == 0x00 or 0xD0 <= code <= 0xD7:
                write(self._buffer[self._position : found + 2])
                self._position = found + 2
                continue
            if code == 0xFF:  # fill byte before a marker
                write(self._buffer[self._position : found])
                self._position = found + 1
                continue
            write(self._buffer[self._position : found])
            self._position = found + 2
            return code


def _describe(code: int, payload_head: bytes) -> str:
    if code == 0xE1 and payload_head.startswith(b"Exif\x00"):
        return N_("EXIF data (camera, serial numbers, GPS position, times, thumbnail)")
    if code == 0xE1 and payload_head.startswith(b"http://ns.adobe.com/xap/1.0/"):
        return N_("XMP metadata (author, editing software, history, location)")
    if code == 0xE1 and payload_head.startswith(b"http://ns.adobe.com/xmp/extension/"):
        return N_("XMP metadata (author, editing software, history, location)")
    if code == 0xED:
        return N_("IPTC/Photoshop data (author, captions, location)")
    if code == COM:
        return N_("comments")
    if code == APP0 and payload_head.startswith(b"JFXX\x00"):
        return THUMBNAIL
    return N_("maker and application data")


def _kept(code: int, payload_head: bytes) -> bool:
    if code == APP0:
        return payload_head.startswith(b"JFIF\x00")
    if code == APP2:
        return payload_head.startswith(_ICC_MARK)
    if code == 0xEE:
        return payload_head.startswith(b"Adobe")
    return not (0xE0 <= code <= 0xEF or code == COM)


class _Profile:
    """The pieces of an ICC profile (APP2 segments), gathered to be rebuilt as one."""

    def __init__(self) -> None:
        self.pieces: list[tuple[int, bytes]] = []
        self.size = 0
        self.too_large = False

    def _reset(self) -> None:
        self.pieces, self.size, self.too_large = [], 0, False

    def add(self, data: _Input, head: bytes, rest: int) -> None:
        self.size += len(head) + rest
        if self.too_large or self.size > icc.MAX_PROFILE:
            self.too_large = True
            self.pieces = []
            data.copy(rest, None)
            return
        payload = head + data.exact(rest)
        number = payload[len(_ICC_MARK)] if len(payload) > len(_ICC_MARK) else 0
        self.pieces.append((number, payload[len(_ICC_MARK) + 2 :]))

    def flush(self, write: Callable[[bytes], object], removed: list[str]) -> None:
        if not self.pieces and not self.too_large:
            return
        pieces, too_large = self.pieces, self.too_large
        self._reset()
        removed.append(icc.REMOVED)
        if too_large:
            return
        try:
            profile = icc.scrub_profile(b"".join(piece for _, piece in sorted(pieces)))
        except Unreadable:
            return  # a damaged profile is dropped: colours fall back to sRGB
        parts = [profile[at : at + _ICC_PIECE] for at in range(0, len(profile), _ICC_PIECE)]
        for number, part in enumerate(parts, start=1):
            payload = _ICC_MARK + bytes([number, len(parts)]) + part
            write(bytes([0xFF, APP2]) + (len(payload) + 2).to_bytes(2, "big") + payload)


def clean_jpeg(source: BinaryIO, write: Callable[[bytes], object]) -> tuple[str, ...]:
    data = _Input(source)
    if data.exact(2) != b"\xff\xd8":
        raise Unreadable(N_("this is not a JPEG image"))
    write(b"\xff\xd8")
    removed: list[str] = []
    profile = _Profile()
    code = _next_marker(data)
    while True:
        if code == EOI:
            profile.flush(write, removed)
            write(b"\xff\xd9")
            if data.has_more():
                removed.append(N_("data after the end of the image"))
            return tuple(dict.fromkeys(removed))
        if code in _STANDALONE or code == SOI:
            raise Unreadable(N_("the JPEG image has a marker out of place"))
        length_bytes = data.exact(2)
        length = int.from_bytes(length_bytes, "big")
        if length < 2:
            raise Unreadable(N_("the JPEG image has a damaged segment"))
        head = data.exact(min(length - 2, 40))
        rest = length - 2 - len(head)
        if code == APP2 and head.startswith(_ICC_MARK):
            profile.add(data, head, rest)
            code = _next_marker(data)
            continue
        profile.flush(write, removed)
        if code == APP0 and head.startswith(b"JFIF\x00") and length - 2 > _JFIF_HEADER:
            # The JFIF header may carry an uncompressed thumbnail after its 14 bytes.
            if len(head) < _JFIF_HEADER:
                raise Unreadable(N_("the JPEG image has a damaged segment"))
            header = head[: _JFIF_HEADER - 2] + b"\x00\x00"
            write(bytes([0xFF, APP0]) + (_JFIF_HEADER + 2).to_bytes(2, "big") + header)
            data.copy(rest, None)
            removed.append(THUMBNAIL)
        elif _kept(code, head):
            write(bytes([0xFF, code]) + length_bytes + head)
            data.copy(rest, write)
        else:
            removed.append(_describe(code, head))
            data.copy(rest, None)
        if code == SOS:
            code = data.scan_to_marker(write)
        else:
            code = _next_marker(data)


def _next_marker(data: _Input) -> int:
    if data.exact(1) != b"\xff":
        raise Unreadable(N_("the JPEG image has a damaged segment"))
    code = data.exact(1)[0]
    while code == 0xFF:
        code = data.exact(1)[0]
    return code
