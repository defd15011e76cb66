"""What every Quietline PDF shares: an A4 page, a Unicode font that covers French (DejaVu Sans,
shipped in ``fonts/``: PDF's standard fonts stop at Latin-1, and reporters write in any
script), headings, paragraphs, a table of facts, page numbers in the reader's language, and
metadata that names no one.

Built with fpdf2 (pure Python). The document is assembled in memory and returned as bytes:
nothing is written to disk on the way, images included (they are given as in-memory buffers).
Rendering is CPU work: callers run :func:`render` in a worker thread.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time
from functools import cache
from pathlib import Path
from typing import TypeVar

import anyio.to_thread
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from intake import i18n
from intake.i18n import N_

FONT_DIR = Path(__file__).parent / "fonts"
FAMILY = "DejaVu"
MEDIA_TYPE = "application/pdf"
CREATOR = "Quietline"

TEXT_COLOUR = (29, 35, 41)
MUTED_COLOUR = (74, 85, 96)
ACCENT_COLOUR = (31, 95, 139)
RULE_COLOUR = (216, 212, 204)

FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
REPLACEMENT = "\ufffd"

Result = TypeVar("Result")


@cache
def covered() -> frozenset[int]:
    """The characters both fonts draw."""
    maps = [TTFont(FONT_DIR / name, lazy=True).getBestCmap() for name in FONT_FILES.values()]
    return frozenset(set.intersection(*(set(cmap) for cmap in maps)))


def drawable(text: str) -> str:
    """``text`` with every character the font cannot draw shown as U+FFFD, so the reader sees
    that something is there. (fpdf2 would otherwise drop it and log which characters were
    missing: a piece of a report in the server's log.)"""
    have = covered()
    return "".join(
        char if ord(char) in have or char == "\n" else " " if char == "\t" else REPLACEMENT
        for char in text
    )


class Document(FPDF):
    """An A4 document with the shared look. ``title`` goes in the metadata and the running
    footer; ``made_on`` is its creation date, kept to the day (no time of day, no author)."""

    def __init__(self, *, title: str, made_on: date) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        for style, name in FONT_FILES.items():
            self.add_font(FAMILY, style, str(FONT_DIR / name))
        self.running_title = title
        self.set_title(title)
        self.set_lang(i18n.to_tag(i18n.current_locale()))
        self.set_creator(CREATOR)
        self.set_producer(CREATOR)
        self.set_creation_date(datetime.combine(made_on, time(), tzinfo=UTC))
        self.set_margins(18, 18, 18)
        self.set_auto_page_break(True, margin=18)
        self.set_text_color(*TEXT_COLOUR)
        self.add_page()

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, "", 8)
        self.set_text_color(*MUTED_COLOUR)
        page = i18n.gettext(
            N_("Page %(page)s of %(pages)s"), {"page": str(self.page_no()), "pages": "{nb}"}
        )
        self.cell(0, 5, f"{self.running_title} · {page}", align="C")
        self.set_text_color(*TEXT_COLOUR)

    def normalize_text(self, text: str) -> str:
        """Every text fpdf2 writes passes here: characters the font lacks are replaced."""
        return super().normalize_text(drawable(text))

    @property
    def usable_width(self) -> float:
        return self.w - self.l_margin - self.r_margin

    def heading(self, text: str, level: int = 1) -> None:
        size = {1: 17, 2: 13, 3: 10.5}[level]
        self.ln(2 if level == 3 else 4)
        if self.will_page_break(size * 1.6):
            self.add_page()
        self.set_font(FAMILY, "B", size)
        self.multi_cell(0, size * 0.5, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1.5)

    def paragraph(self, text: str, *, size: float = 10, muted: bool = False) -> None:
        self.set_font(FAMILY, "", size)
        if muted:
            self.set_text_color(*MUTED_COLOUR)
        self.multi_cell(0, size * 0.5, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(*TEXT_COLOUR)
        self.ln(1.5)

    def boxed(self, text: str) -> None:
        """A paragraph in a frame, for the warning a reader must not miss."""
        self.set_font(FAMILY, "B", 9.5)
        self.set_draw_color(164, 22, 26)
        self.set_line_width(0.6)
        self.multi_cell(
            0, 5, text, border=1, padding=2.5, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        self.set_line_width(0.2)
        self.ln(3)

    def facts(self, rows: Sequence[tuple[str, str]], *, label_width: float = 55) -> None:
        """Label and value rows, the label in bold; long labels and values wrap in their
        column, and the next row starts below the longer of the two."""
        line = 5.2
        for label, value in rows:
            self.set_font(FAMILY, "B", 9.5)
            label_lines = len(
                self.multi_cell(label_width - 3, line, label, dry_run=True, output="LINES")
            )
            self.set_font(FAMILY, "", 9.5)
            value_lines = len(
                self.multi_cell(
                    self.usable_width - label_width, line, value, dry_run=True, output="LINES"
                )
            )
            if self.will_page_break(line * max(label_lines, value_lines)):
                self.add_page()
            top = self.get_y()
            self.set_font(FAMILY, "B", 9.5)
            self.multi_cell(
                label_width - 3, line, label, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
            label_bottom = self.get_y()
            self.set_xy(self.l_margin + label_width, top)
            self.set_font(FAMILY, "", 9.5)
            self.multi_cell(0, line, value, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.set_y(max(self.get_y(), label_bottom))
        self.ln(2)

    def rule(self) -> None:
        self.set_draw_color(*RULE_COLOUR)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(2)

    def to_bytes(self) -> bytes:
        return bytes(self.output())


async def render(build: Callable[[], Result]) -> Result:
    """Run ``build`` in a worker thread, in the caller's language (the context is copied)."""
    context = contextvars.copy_context()
    return await anyio.to_thread.run_sync(context.run, build)
