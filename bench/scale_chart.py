"""One SVG line chart per figure of ``make bench-scale``: the figure against the number of cases,
both axes on a log scale, one line per database engine, the target as a dashed line.

Drawn as plain SVG text (no script, no font or image loaded), like the statistics charts the
service draws for council; a reader sees at a glance whether a figure is flat or grows.
"""

from __future__ import annotations

import math
from html import escape

WIDTH, HEIGHT = 560, 320
LEFT, RIGHT, TOP, BOTTOM = 70, 130, 40, 50
COLOURS = {"sqlite": "#1f5fa8", "postgresql": "#b4441b"}
MARKS = {"sqlite": "circle", "postgresql": "square"}


def _log_range(values: list[float]) -> tuple[float, float]:
    low = math.floor(math.log10(min(values)))
    high = math.ceil(math.log10(max(values)))
    return float(low), float(high if high > low else low + 1)


def _label(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 1_000:
        return f"{value / 1_000:g}k"
    return f"{value:g}"


def draw(
    title: str,
    unit: str,
    series: dict[str, list[tuple[int, float]]],
    *,
    target: float | None = None,
) -> str:
    """``series``: per engine, (cases, value) points. Values of 0 or less are left out."""
    points = {
        engine: [(x, y) for x, y in pairs if y > 0] for engine, pairs in series.items() if pairs
    }
    xs = [x for pairs in points.values() for x, _ in pairs]
    ys = [y for pairs in points.values() for _, y in pairs] + ([target] if target else [])
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        '<rect width="100%" height="100%" fill="#fff"/>',
        f'<text x="{LEFT}" y="22" font-family="sans-serif" font-size="14" fill="#111">'
        f"{escape(title)} ({escape(unit)})</text>",
    ]
    if not xs or not ys:
        out.append('<text x="70" y="160" font-family="sans-serif">not measured</text></svg>')
        return "\n".join(out)
    x_low, x_high = _log_range([float(x) for x in xs])
    y_low, y_high = _log_range(ys)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + plot_w * (math.log10(x) - x_low) / (x_high - x_low)

    def py(y: float) -> float:
        return TOP + plot_h * (1 - (math.log10(y) - y_low) / (y_high - y_low))

    axis = 'stroke="#444" stroke-width="1"'
    out.append(
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" {axis}/>'
    )
    out.append(f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" {axis}/>')
    text = 'font-family="sans-serif" font-size="11" fill="#333"'
    for power in range(int(x_low), int(x_high) + 1):
        x = px(10.0**power)
        out.append(
            f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{TOP + plot_h}" stroke="#eee"/>'
        )
        out.append(
            f'<text x="{x:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" {text}>'
            f"{_label(10.0**power)}</text>"
        )
    for power in range(int(y_low), int(y_high) + 1):
        y = py(10.0**power)
        out.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" stroke="#eee"/>'
        )
        out.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" {text}>'
            f"{_label(10.0**power)}</text>"
        )
    out.append(
        f'<text x="{LEFT + plot_w / 2:.0f}" y="{HEIGHT - 12}" text-anchor="middle" {text}>'
        "cases in the database (log scale)</text>"
    )
    if target:
        y = py(target)
        out.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" '
            'stroke="#2a7a2a" stroke-dasharray="6 4"/>'
        )
        out.append(f'<text x="{LEFT + 4}" y="{y - 4:.1f}" {text}>target {target:g}</text>')
    for number, (engine, pairs) in enumerate(sorted(points.items())):
        colour = COLOURS.get(engine, "#555")
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in sorted(pairs))
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y in pairs:
            if MARKS.get(engine) == "square":
                out.append(
                    f'<rect x="{px(x) - 4:.1f}" y="{py(y) - 4:.1f}" width="8" height="8" '
                    f'fill="{colour}"/>'
                )
            else:
                out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="4" fill="{colour}"/>')
        legend_y = TOP + 16 + 18 * number
        out.append(
            f'<line x1="{LEFT + plot_w + 8}" y1="{legend_y - 4}" x2="{LEFT + plot_w + 28}" '
            f'y2="{legend_y - 4}" stroke="{colour}" stroke-width="2"/>'
        )
        out.append(f'<text x="{LEFT + plot_w + 32}" y="{legend_y}" {text}>{escape(engine)}</text>')
    out.append("</svg>")
    return "\n".join(out)
