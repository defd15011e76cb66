"""ICC colour profiles: keep the colour data, drop what names a device, a person or a time.

Photos and scans carry the profile of the camera, scanner or display that made them. Its tags
that change colours (primaries, white point, tone curves, lookup tables) are kept, so the image
looks the same; everything else is dropped: the description and copyright texts (an editor or a
person can write anything there), the device manufacturer and model descriptions, calibration
times, metadata dictionaries and every private tag. In the 128-byte header the creation time,
the colour-management software, the platform, the device manufacturer, model and attributes, the
profile's creator and its ID (a checksum that would match the original) are zeroed. A neutral
description naming only the colour space takes the old one's place, since some viewers show it.

The profile is rebuilt from the kept tags, so no dropped text survives as unreferenced bytes.
"""

from __future__ import annotations

from intake.attachments.cleaning.errors import N_, Unreadable

MAX_PROFILE = 4 * 1024 * 1024  # larger profiles are dropped rather than read into memory
_HEADER = 128
_COLOUR_TAGS = {
    b"A2B0", b"A2B1", b"A2B2", b"A2B3", b"B2A0", b"B2A1", b"B2A2", b"B2A3",
    b"D2B0", b"D2B1", b"D2B2", b"D2B3", b"B2D0", b"B2D1", b"B2D2", b"B2D3",
    b"rXYZ", b"gXYZ", b"bXYZ", b"rTRC", b"gTRC", b"bTRC", b"kTRC", b"wtpt", b"bkpt",
    b"chad", b"chrm", b"clro", b"clrt", b"clot", b"cicp", b"gamt", b"lumi", b"meas",
    b"ncl2", b"pre0", b"pre1", b"pre2", b"resp", b"rig0", b"rig2", b"tech", b"view",
    b"ciis", b"rigo", b"bfd ", b"devs", b"psd0", b"psd1", b"psd2", b"psd3", b"ps2s",
    b"ps2i", b"ps2r", b"ps2c",
}  # fmt: skip
# Header fields zeroed: (offset, length).
_ZEROED = (
    (4, 4),  # preferred colour-management software
    (24, 12),  # creation date and time
    (40, 4),  # primary platform
    (48, 4),  # device manufacturer
    (52, 4),  # device model
    (56, 8),  # device attributes
    (80, 4),  # profile creator
    (84, 16),  # profile ID (an MD5 of the original; zero means "not computed")
)
_SPACES = {b"RGB ": "RGB", b"GRAY": "Gray", b"CMYK": "CMYK", b"Lab ": "Lab", b"XYZ ": "XYZ"}
REMOVED = N_("colour profile details (device, software, description, time)")


def _description(version_major: int, space: bytes) -> bytes:
    text = f"{_SPACES.get(space, 'Colour')} profile"
    if version_major >= 4:
        encoded = text.encode("utf-16-be")
        return (
            b"mluc\0\0\0\0"
            + (1).to_bytes(4, "big")
            + (12).to_bytes(4, "big")
            + b"enUS"
            + len(encoded).to_bytes(4, "big")
            + (28).to_bytes(4, "big")
            + encoded
        )
    ascii_text = text.encode("ascii") + b"\0"
    return (
        b"desc\0\0\0\0"
        + len(ascii_text).to_bytes(4, "big")
        + ascii_text
        + bytes(4 + 4 + 2 + 1 + 67)  # no Unicode, no ScriptCode text
    )


def scrub_profile(profile: bytes) -> bytes:
    """The profile with only its colour data and a neutral description; raises
    :class:`Unreadable` when it is not a well-formed ICC profile."""
    if len(profile) < _HEADER + 4 or profile[36:40] != b"acsp":
        raise Unreadable(N_("the colour profile is damaged"))
    count = int.from_bytes(profile[128:132], "big")
    if count > 1000 or _HEADER + 4 + 12 * count > len(profile):
        raise Unreadable(N_("the colour profile is damaged"))
    kept: list[tuple[bytes, bytes]] = []
    for index in range(count):
        entry = profile[132 + 12 * index : 144 + 12 * index]
        signature = entry[:4]
        offset = int.from_bytes(entry[4:8], "big")
        size = int.from_bytes(entry[8:12], "big")
        if offset + size > len(profile) or offset < _HEADER:
            raise Unreadable(N_("the colour profile is damaged"))
        if signature in _COLOUR_TAGS:
            kept.append((signature, profile[offset : offset + size]))
    header = bytearray(profile[:_HEADER])
    for offset, length in _ZEROED:
        header[offset : offset + length] = bytes(length)
    kept.append((b"desc", _description(header[8], bytes(header[16:20]))))
    table = bytearray(len(kept).to_bytes(4, "big"))
    body = bytearray()
    placed: dict[bytes, int] = {}  # identical tag data (shared curves) is stored once
    data_start = _HEADER + 4 + 12 * len(kept)
    for signature, data in kept:
        if data not in placed:
            placed[data] = data_start + len(body)
            body += data + bytes(-len(data) % 4)
        table += signature + placed[data].to_bytes(4, "big") + len(data).to_bytes(4, "big")
    total = _HEADER + len(table) + len(body)
    header[0:4] = total.to_bytes(4, "big")
    return bytes(header) + bytes(table) + bytes(body)
