"""Bar charts as inline SVG, drawn on the server: no script, nothing from a third party.

Hidden (small or withheld) figures get no bar, only their words, so a chart never
shows more than the table beside it.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

ROW_HEIGHT = 26
LABEL_WIDTH = 250
BAR_AREA = 300
VALUE_WIDTH = 130
BAR_COLOUR = "#1f5f8b"
HIDDEN_COLOUR = "#4a5560"


def _label(text: str, limit: int = 38) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bar_chart(title: str, rows: Sequence[tuple[str, int | str | None]]) -> Markup:
    """A horizontal bar chart of ``(label, figure)`` rows; figures that are not numbers
    (hidden cells) are written out instead of drawn."""
    numbers = [value for _, value in rows if isinstance(value, int)]
    largest = max(numbers, default=0) or 1
    width = LABEL_WIDTH + BAR_AREA + VALUE_WIDTH
    height = ROW_HEIGHT * len(rows) + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for index, (label, value) in enumerate(rows):
        y = index * ROW_HEIGHT + 4
        text_y = y + ROW_HEIGHT * 0.65
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{text_y:.1f}" text-anchor="end" font-size="13" '
            f'fill="#1d2329">{escape(_label(label))}</text>'
        )
        if isinstance(value, int):
            length = round(BAR_AREA * value / largest, 1)
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{length}" '
                f'height="{ROW_HEIGHT - 8}" fill="{BAR_COLOUR}"/>'
            )
            parts.append(
                f'<text x="{LABEL_WIDTH + length + 6:.1f}" y="{text_y:.1f}" font-size="13" '
                f'fill="#1d2329">{value}</text>'
            )
        else:
            words = "no figure" if value is None else str(value)
            parts.append(
                f'<text x="{LABEL_WIDTH + 6}" y="{text_y:.1f}" font-size="13" font-style="italic" '
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
            "Reports received by month",
            [(month, value) for month, value in months.items()],
        ),
        bar_chart(
            "Reports received by category",
            [(labels.get(ident, ident), value) for ident, value in figures["by_category"].items()],
        ),
        bar_chart(
            "Cases concluded, by outcome",
            [
                (OUTCOME_NAMES[name], value)
                for name, value in figures["concluded_by_outcome"].items()
            ],
        ),
    ]


OUTCOME_NAMES = {
    "substantiated": "Substantiated",
    "not_substantiated": "Not substantiated",
    "referred": "Referred elsewhere",
    "no_action": "No action (not acted on)",
    "other": "Other outcome",
}
