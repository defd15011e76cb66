"""The annual statistics as a PDF report for council, in the reader's language.

It is drawn from the published figures (:func:`intake.operations.stats.annual`), the very ones
the statistics page shows: a small or withheld cell arrives here as words ("fewer than N",
"withheld"), never as its count, so the report cannot show more than the page. Each figure is
written out, and each breakdown drawn as a bar chart with fpdf2's own lines and rectangles; a
hidden cell gets no bar, only its words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from babel.dates import get_month_names
from babel.numbers import format_decimal
from fpdf.enums import XPos, YPos
from starlette.responses import Response

from intake import i18n
from intake.accounts import organisation
from intake.i18n import N_
from intake.operations.stats import OUTCOMES
from intake.runtime import Runtime
from intake.web.labels import OUTCOME_LABELS
from intake.web.pdf.document import (
    ACCENT_COLOUR,
    FAMILY,
    MEDIA_TYPE,
    MUTED_COLOUR,
    TEXT_COLOUR,
    Document,
    render,
)

DEFAULT_ORGANISATION = "Quietline"

OUTCOME_NAMES = {
    **{name: OUTCOME_LABELS[name] for name in OUTCOMES},
    "other": N_("Other outcome"),
}

GLANCE = (
    (N_("Reports received"), ("received",)),
    (N_("of which reprisal complaints"), ("reprisal_complaints",)),
    (N_("Acted on"), ("acted_on",)),
    (N_("Not acted on"), ("not_acted_on",)),
    (N_("Awaiting a decision"), ("progress", "awaiting_decision")),
    (N_("Investigations started"), ("investigations_started",)),
    (N_("Under investigation now"), ("progress", "under_investigation")),
    (N_("Concluded"), ("concluded",)),
    (N_("Median days to acknowledge"), ("median_days_to_acknowledge",)),
    (N_("Median days to conclude"), ("median_days_to_conclude",)),
    (N_("Acknowledgement deadlines missed"), ("deadlines_missed", "acknowledgement")),
    (N_("Feedback deadlines missed"), ("deadlines_missed", "feedback")),
)

LABEL_WIDTH = 62.0
VALUE_WIDTH = 34.0
ROW_HEIGHT = 6.2
LABEL_LINE = 4.2


async def organisation_name(runtime: Runtime) -> str:
    """The organisation the report is from, in the reader's language: its name as the
    administrators set it, else the service's own name."""
    identity = await organisation.current(runtime)
    return identity.text("name", i18n.current_locale()) or DEFAULT_ORGANISATION


def _threshold(figures: Mapping[str, Any]) -> int:
    return int(figures["suppression"]["threshold"])


def shown(value: object, figures: Mapping[str, Any]) -> str:
    """A published figure in words of the reader's language: a number, or what stands for a
    hidden one."""
    threshold = _threshold(figures)
    fewer = figures["suppression"]["fewer"]
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return i18n.format_number(value)
    if isinstance(value, float):
        return format_decimal(value, locale=i18n.current_locale())
    if value == fewer:
        return i18n.gettext(N_("fewer than %(threshold)s"), {"threshold": threshold})
    if value == f"{fewer} cases":
        return i18n.gettext(N_("fewer than %(threshold)s cases"), {"threshold": threshold})
    if value == "withheld":
        return i18n.gettext(N_("withheld"))
    return str(value)


def _figure(figures: Mapping[str, Any], path: Sequence[str]) -> object:
    value: Any = figures
    for key in path:
        value = value[key]
    return value


def _month_rows(figures: Mapping[str, Any]) -> list[tuple[str, object]]:
    names = get_month_names("wide", locale=i18n.current_locale())
    rows = []
    for key, value in figures["by_month"].items():
        month = int(key.rsplit("-", 1)[1])
        name = str(names[month])
        rows.append((name[:1].upper() + name[1:], value))
    return rows


def _category_rows(figures: Mapping[str, Any]) -> list[tuple[str, object]]:
    labels = figures["category_labels"]
    return [
        (i18n.gettext(str(labels.get(ident, ident))), value)
        for ident, value in figures["by_category"].items()
    ]


def _outcome_rows(figures: Mapping[str, Any]) -> list[tuple[str, object]]:
    return [
        (i18n.gettext(OUTCOME_NAMES.get(name, name)), value)
        for name, value in figures["concluded_by_outcome"].items()
    ]


def _chart(
    document: Document,
    title: str,
    rows: Sequence[tuple[str, object]],
    figures: Mapping[str, Any],
) -> None:
    """A horizontal bar chart: a label, a bar in proportion to the largest shown figure, the
    figure in words. A hidden figure has no bar."""
    document.heading(title, 2)
    numbers = [value for _, value in rows if isinstance(value, int) and value > 0]
    largest = max(numbers, default=1)
    bar_area = document.usable_width - LABEL_WIDTH - VALUE_WIDTH
    for label, value in rows:
        document.set_font(FAMILY, "", 9)
        lines = document.multi_cell(
            LABEL_WIDTH - 2, LABEL_LINE, label, dry_run=True, output="LINES"
        )
        height = max(ROW_HEIGHT, LABEL_LINE * len(lines) + 1.2)
        if document.will_page_break(height):
            document.add_page()
        y = document.get_y()
        document.set_xy(document.l_margin, y + (height - LABEL_LINE * len(lines)) / 2)
        document.multi_cell(LABEL_WIDTH - 2, LABEL_LINE, label, align="R")
        x = document.l_margin + LABEL_WIDTH
        middle = y + (height - ROW_HEIGHT) / 2
        if isinstance(value, int) and not isinstance(value, bool):
            length = bar_area * value / largest
            if length > 0:
                document.set_fill_color(*ACCENT_COLOUR)
                document.rect(x, middle + 1.1, length, ROW_HEIGHT - 2.2, style="F")
            document.set_xy(x + length + 1.5, middle)
            document.cell(VALUE_WIDTH, ROW_HEIGHT, shown(value, figures))
        else:
            document.set_text_color(*MUTED_COLOUR)
            document.set_xy(x + 1.5, middle)
            document.cell(bar_area + VALUE_WIDTH, ROW_HEIGHT, shown(value, figures))
            document.set_text_color(*TEXT_COLOUR)
        document.set_xy(document.l_margin, y + height)
    document.ln(2)


def build(figures: Mapping[str, Any], organisation: str) -> bytes:
    """The report's bytes, in the current language."""
    year = figures["year"]
    title = i18n.gettext(N_("Reports and outcomes in %(year)s"), {"year": str(year)})
    document = Document(title=f"{organisation} — {title}", made_on=_as_of(figures))
    document.set_font(FAMILY, "B", 11)
    document.set_text_color(*MUTED_COLOUR)
    document.multi_cell(0, 6, organisation, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    document.set_text_color(*TEXT_COLOUR)
    document.heading(title, 1)
    document.paragraph(
        i18n.gettext(
            N_(
                "A report to council. Every figure counts the cases received during the year, "
                "and their progress as of %(day)s."
            ),
            {"day": i18n.format_day(_as_of(figures))},
        )
    )
    threshold = _threshold(figures)
    document.paragraph(
        i18n.gettext(
            N_(
                "So that no small group of reports points to anyone, a count from 1 to "
                "%(most)s is shown as “%(fewer)s”, and a figure marked “%(withheld)s” is "
                "%(threshold)s or more, withheld so that a smaller count cannot be worked out "
                "by subtraction."
            ),
            {
                "most": threshold - 1,
                "fewer": shown(figures["suppression"]["fewer"], figures),
                "withheld": shown("withheld", figures),
                "threshold": threshold,
            },
        ),
        muted=True,
        size=9,
    )
    document.heading(i18n.gettext(N_("At a glance")), 2)
    document.facts(
        [(i18n.gettext(label), shown(_figure(figures, path), figures)) for label, path in GLANCE],
        label_width=90,
    )
    _chart(document, i18n.gettext(N_("Reports received by month")), _month_rows(figures), figures)
    _chart(
        document,
        i18n.gettext(N_("Reports received by category")),
        _category_rows(figures),
        figures,
    )
    _chart(
        document, i18n.gettext(N_("Cases concluded, by outcome")), _outcome_rows(figures), figures
    )
    return document.to_bytes()


def _as_of(figures: Mapping[str, Any]) -> date:
    return date.fromisoformat(str(figures["as_of"]))


async def pdf_bytes(figures: Mapping[str, Any], runtime: Runtime) -> bytes:
    """The report, built in a worker thread in the caller's language."""
    name = await organisation_name(runtime)
    return await render(lambda: build(figures, name))


def file_name(year: int) -> str:
    return f"quietline-{year}.pdf"


def response(pdf: bytes, year: int) -> Response:
    return Response(
        pdf,
        media_type=MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{file_name(year)}"'},
    )
