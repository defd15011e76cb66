"""What ``make bench-scale`` prints and writes: a table per engine (a column per size), the
targets PASS or FAIL, how each figure grows, a JSON file and an SVG chart per figure."""

from __future__ import annotations

import json
import math
import os
import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.report import Check
from bench.scale_chart import draw


@dataclass(frozen=True)
class Figure:
    name: str
    unit: str
    target: float | None = None
    at_least: bool = False  # True: the target is a floor (a rate), else a ceiling
    grows_with: str = "nothing"  # the work it touches, beside the page it reads: see GROWTH


# What each figure touches, and so how fast it may grow with the number of cases.
GROWTH = {
    "nothing": "one page, one case or one token: it should stay flat",
    "year": "every case of a year: it may grow with the cases",
    "events": "every audit event (as many as cases here): it may grow with the events",
    "fixed": "a fixed amount of work (10,000 cases to delete)",
}
FIGURES = (
    Figure("start-up", "s", 3.0),
    Figure("queue first page p50", "ms", 50.0),
    Figure("queue first page p99", "ms", 150.0),
    Figure("queue by stage p50", "ms", 50.0),
    Figure("queue by stage p99", "ms", 150.0),
    Figure("queue by category p50", "ms", 50.0),
    Figure("queue by category p99", "ms", 150.0),
    Figure("queue by overdue p50", "ms", 50.0),
    Figure("queue by overdue p99", "ms", 150.0),
    Figure("case with 50 messages p50", "ms", 20.0),
    Figure("status lookup p50", "ms", 10.0),
    Figure("statistics of a year", "s", 3.0, grows_with="year"),
    Figure("statistics peak memory growth", "MB", 150.0, grows_with="year"),
    Figure("submission p99, idle", "ms"),
    Figure("retention: cases deleted", "cases", grows_with="fixed"),
    Figure("retention: wall time", "s", grows_with="fixed"),
    Figure("retention: cases deleted a second", "cases/s", 500.0, True, "fixed"),
    Figure("submission p99 during retention", "ms", 150.0),
    Figure("submission errors during retention", "errors", 0.5),
    Figure("purge command: cases deleted a second", "cases/s", grows_with="fixed"),
    Figure("purge command: start and scan (dry run)", "s", grows_with="year"),
    Figure("submission p99 during the purge command", "ms"),
    Figure("audit verify wall time", "s", grows_with="events"),
    Figure("audit verify events a second", "events/s", 100_000.0, True, "events"),
    Figure("audit verify peak memory", "MB"),
)
ONCE = (
    Figure("attachments (MB)", "MB"),
    Figure("backup rate (MB/s)", "MB/s", 100.0, True),
    Figure("backup peak memory", "MB"),
    Figure("backup memory growth", "MB", 50.0),
    Figure("restore rate (MB/s)", "MB/s", 100.0, True),
    Figure("restore peak memory", "MB"),
    Figure("restore memory growth", "MB", 50.0),
    Figure("directory verify wall time", "s"),
    Figure("directory verify peak memory", "MB"),
)
FLAT_MEMORY_MB = 20.0  # audit verify: peak at the largest size within this of the smallest
FLAT_FACTOR = 3.0  # a figure that should stay flat may grow this much over 100x the cases
Putter = Callable[[str, float], None]


@dataclass
class Results:
    by_size: dict[str, dict[int, dict[str, float]]] = field(default_factory=dict)
    once: dict[str, dict[str, float]] = field(default_factory=dict)

    def putter(self, engine: str, cases: int | None) -> Putter:
        def put(name: str, value: float) -> None:
            if cases is None:
                self.once.setdefault(engine, {})[name] = float(value)
            else:
                self.by_size.setdefault(engine, {}).setdefault(cases, {})[name] = float(value)
            where = f"{cases:,} cases" if cases else "once"
            print(f"  {engine}, {where}: {name} = {value:,.2f}", flush=True)

        return put


def _fmt(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def _meets(figure: Figure, value: float) -> bool:
    assert figure.target is not None
    return value >= figure.target if figure.at_least else value < figure.target


def _table(results: Results, engine: str, sizes: list[int]) -> str:
    values = results.by_size.get(engine, {})
    # With no sizes (--sizes ""), only the figures measured once: one column for them.
    columns = [f"{size:,} cases" for size in sizes] or ["measured"]
    header = ["figure", "unit", *columns, "target"]
    lines = [header]
    for figure in FIGURES if sizes else ():
        target = "" if figure.target is None else ("≥ " if figure.at_least else "< ")
        target += "" if figure.target is None else _fmt(figure.target)
        row = [figure.name, figure.unit]
        row += [_fmt(values.get(size, {}).get(figure.name)) for size in sizes]
        lines.append([*row, target])
    for figure in ONCE:
        value = results.once.get(engine, {}).get(figure.name)
        if value is None:
            continue
        target = "" if figure.target is None else ("≥ " if figure.at_least else "< ")
        target += "" if figure.target is None else _fmt(figure.target)
        lines.append([figure.name, figure.unit, *[""] * (len(columns) - 1), _fmt(value), target])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for number, line in enumerate(lines):
        out.append(
            "  ".join(
                cell.ljust(width) if i < 2 else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(line, widths, strict=True))
            )
        )
        if number == 0:
            out.append("  ".join("-" * width for width in widths))
    return "\n".join(out)


def checks(results: Results, sizes: list[int], engines: list[str]) -> list[Check]:
    largest, smallest = (max(sizes), min(sizes)) if sizes else (0, 0)
    found: list[Check] = []
    note = "" if largest >= 1_000_000 else f" (measured at {largest:,} cases, not 1,000,000)"
    for engine in engines:
        at_largest = results.by_size.get(engine, {}).get(largest, {})
        for figure in FIGURES if sizes else ():
            value = at_largest.get(figure.name)
            if figure.target is None:
                continue
            sign = "≥" if figure.at_least else "<"
            name = f"{figure.name} ({engine}) {sign} {_fmt(figure.target)} {figure.unit}"
            if value is None or math.isnan(value):
                found.append(Check(name, "not measured", None))
            else:
                found.append(
                    Check(name, f"{_fmt(value)} {figure.unit}{note}", _meets(figure, value))
                )
        low = results.by_size.get(engine, {}).get(smallest, {}).get("audit verify peak memory")
        high = at_largest.get("audit verify peak memory")
        if low is not None and high is not None and largest > smallest:
            found.append(
                Check(
                    f"audit verify memory flat from {smallest:,} to {largest:,} events ({engine})",
                    f"{low:.0f} MB to {high:.0f} MB",
                    high - low < FLAT_MEMORY_MB,
                )
            )
        for figure in ONCE:
            value = results.once.get(engine, {}).get(figure.name)
            if figure.target is None or value is None:
                continue
            found.append(
                Check(
                    f"{figure.name} ({engine}) {'≥' if figure.at_least else '<'} "
                    f"{_fmt(figure.target)} {figure.unit}",
                    f"{_fmt(value)} {figure.unit} "
                    f"({_fmt(results.once[engine].get('attachments (MB)'))} MB of attachments)",
                    _meets(figure, value),
                )
            )
        found.extend(_growth(results, engine, smallest, largest))
    return found


def _growth(results: Results, engine: str, smallest: int, largest: int) -> list[Check]:
    """Every figure grows no faster than the work it touches."""
    if largest <= smallest:
        return []
    low = results.by_size.get(engine, {}).get(smallest, {})
    high = results.by_size.get(engine, {}).get(largest, {})
    ratio = largest / smallest
    found = []
    for figure in FIGURES:
        a, b = low.get(figure.name), high.get(figure.name)
        if not a or b is None or figure.at_least or figure.unit in ("cases", "errors"):
            continue
        factor = b / a
        if figure.grows_with == "nothing" or figure.grows_with == "fixed":
            allowed = FLAT_FACTOR
        else:
            allowed = 1.5 * ratio
        found.append(
            Check(
                f"{figure.name} ({engine}) grows no faster than its work "
                f"({GROWTH[figure.grows_with]})",
                f"x{factor:.2f} for x{ratio:,.0f} cases (allowed x{allowed:,.1f})",
                factor <= allowed,
            )
        )
    return found


def write_results(results: Results, sizes: list[int], engines: list[str], out: Path) -> bool:
    """Print the tables and targets; write JSON and charts to ``out``. True when all pass."""
    measured_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    cores = os.cpu_count()
    with open("/proc/meminfo") as meminfo:
        memory = int(meminfo.readline().split()[1]) / 1024 / 1024
    machine = (
        f"{cores} cores, {memory:.0f} GiB, {platform.machine()}, load {os.getloadavg()[0]:.1f}"
    )
    print(f"\nmake bench-scale, {measured_at}; {machine}")
    for engine in engines:
        print(f"\n{engine}\n{_table(results, engine, sizes)}")
    found = checks(results, sizes, engines)
    print()
    for check in found:
        print(check.line())
    out.mkdir(parents=True, exist_ok=True)
    document = {
        "measured_at": measured_at,
        "machine": machine,
        "sizes": sizes,
        "by_size": {
            engine: {str(size): figures for size, figures in per.items()}
            for engine, per in results.by_size.items()
        },
        "once": results.once,
        "checks": [{"target": c.target, "measured": c.measured, "passed": c.passed} for c in found],
    }
    (out / "scale.json").write_text(json.dumps(document, indent=2))
    for figure in FIGURES:
        series = {
            engine: [
                (size, figures[figure.name])
                for size, figures in sorted(per.items())
                if figure.name in figures and not math.isnan(figures[figure.name])
            ]
            for engine, per in results.by_size.items()
        }
        if not any(series.values()):
            continue
        svg = draw(figure.name, figure.unit, series, target=figure.target)
        (out / f"{_slug(figure.name)}.svg").write_text(svg)
    print(f"\nJSON and charts written to {out}/")
    return all(check.passed is not False for check in found)


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-").replace("--", "-")
