"""Bar charts as inline SVG, drawn on the server: no script, nothing from a third party.

Hidden (small or withheld) figures get no bar, only their words, so a chart never
shows more than the table beside it.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from intake import i18n
from intake.i18n import N_
from intake.web import dates, labels

# Each row is its label on a line of its own, then its bar: a long label is never cut off at
# the chart's left edge, and the figure after the longest bar stays inside its right edge.
ROW_HEIGHT = 44
TITLE_HEIGHT = 30
WIDTH = 520
VALUE_WIDTH = 110
BAR_AREA = WIDTH - VALUE_WIDTH
LABEL_CHARACTERS = 70
BAR_COLOUR = "#1f5f8b"
HIDDEN_COLOUR = "#4a5560"


def _label(text: str, limit: int = LABEL_CHARACTERS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bar_chart(title: str, rows: Sequence[tuple[str, int | str | None]]) -> Markup:
    """A horizontal bar chart of ``(label, figure)`` rows; figures that are not numbers
    (hidden cells) are written out instead of drawn."""
    numbers = [value for _, value in rows if isinstance(value, int)]
    largest = max(numbers, default=0) or 1
    height = TITLE_HEIGHT + ROW_HEIGHT * len(rows) + 6
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="18" font-size="16" font-weight="700" fill="#1d2329">'
        f"{escape(title)}</text>",
    ]
    for index, (label, value) in enumerate(rows):
        top = TITLE_HEIGHT + index * ROW_HEIGHT + 2
        label_y, bar_y = top + 15, top + 21
        bar_text_y = bar_y + 13
        parts.append(
            f'<text x="0" y="{label_y}" font-size="14" fill="#1d2329">'
            f"{escape(_label(label))}</text>"
        )
        if isinstance(value, int):
            length = round(BAR_AREA * value / largest, 1)
            parts.append(
                f'<rect x="0" y="{bar_y}" width="{length}" height="17" fill="{BAR_COLOUR}"/>'
            )
            parts.append(
                f'<text x="{length + 6:.1f}" y="{bar_text_y}" font-size="14" '
                f'fill="#1d2329">{value}</text>'
            )
        else:
            words = i18n.gettext(NO_FIGURE) if value is None else labels.figure_text(value)
            parts.append(
                f'<text x="0" y="{bar_text_y}" font-size="14" font-style="italic" '
                f'fill="{HIDDEN_COLOUR}">{escape(words)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  # nosec B704 - every text was escaped above


def charts_for(figures: dict) -> list[Markup]:  # type: ignore[type-arg]
    """The charts of the annual statistics page."""
    labels = figures["category_labels"]
    months = figures["by_month"]
    return [
        bar_chart(
            i18n.gettext(N_("Reports received by month")),
            [(dates.month_text(month), value) for month, value in months.items()],
        ),
        bar_chart(
            i18n.gettext(N_("Reports received by category")),
            [(labels.get(ident, ident), value) for ident, value in figures["by_category"].items()],
        ),
        bar_chart(
            i18n.gettext(N_("Cases concluded, by outcome")),
            [
                (i18n.gettext(OUTCOME_NAMES[name]), value)
                for name, value in figures["concluded_by_outcome"].items()
            ],
        ),
    ]


NO_FIGURE = N_("no figure")
# Catalog message ids: translate them to show them.
OUTCOME_NAMES = {
    "substantiated": N_("Substantiated"),
    "not_substantiated": N_("Not substantiated"),
    "referred": N_("Referred to another body"),
    "no_action": N_("No action (not acted on)"),
    "other": N_("Other outcome"),
}
