"""Reading back the QR code a page shows as inline SVG, as an authenticator app's camera would:
the SVG's path is drawn into an image, which zxing-cpp decodes."""

from __future__ import annotations

import re

import zxingcpp
from PIL import Image, ImageDraw

_SVG = re.compile(r"<svg\b.*?</svg>", re.DOTALL)
_PATH = re.compile(r'<path[^>]*\sd="([^"]+)"')
_STEP = re.compile(r"([MmHhVv])\s*(-?\d+(?:\.\d+)?)(?:[\s,]+(-?\d+(?:\.\d+)?))?")
PIXELS = 8  # per module


def svgs_in(page: str) -> list[str]:
    return _SVG.findall(page)


def modules(svg: str) -> set[tuple[int, int]]:
    """The dark modules of a segno SVG (a path of horizontal runs, in module units)."""
    found = _PATH.search(svg)
    assert found, "the SVG has no path"
    dark: set[tuple[int, int]] = set()
    x = y = 0.0
    for command, first, second in _STEP.findall(found.group(1)):
        if command == "M":
            x, y = float(first), float(second)
        elif command == "m":
            x, y = x + float(first), y + float(second or 0)
        elif command == "h":
            for column in range(int(x), int(x + float(first))):
                dark.add((column, int(y)))
            x += float(first)
        else:
            raise AssertionError(f"unexpected path command {command!r}")
    return dark


def decode(svg: str) -> list[str]:
    """What a QR reader finds in the SVG."""
    dark = modules(svg)
    size = max(max(column for column, _ in dark), max(row for _, row in dark)) + 5
    image = Image.new("L", (size * PIXELS, size * PIXELS), 255)
    draw = ImageDraw.Draw(image)
    for column, row in dark:
        draw.rectangle(
            (column * PIXELS, row * PIXELS, (column + 1) * PIXELS - 1, (row + 1) * PIXELS - 1),
            fill=0,
        )
    return [found.text for found in zxingcpp.read_barcodes(image)]
