"""Summaries of measured phases: medians over repetitions, the table, the target checks."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Any

from bench.driver import LoadResult


@dataclass
class Phase:
    """One bounded driver run against one server, with what the server used meanwhile."""

    load: LoadResult
    server_cpu: float  # seconds of CPU the server process used during the run
    peak_rss_mib: float  # the server's VmHWM after the run
    # The rest of the machine meanwhile: the load driver's own CPU (this process), and the CPU
    # that all cores spent working, whoever did it (the server, the driver, PostgreSQL, ...).
    driver_cpu: float = math.nan
    machine_cpu: float = math.nan
    cores: int = 1

    @property
    def requests(self) -> int:
        return self.load.ok + self.load.error_count

    def per_request_ms(self, seconds: float) -> float:
        return 1000 * seconds / self.requests if self.requests else math.nan

    @property
    def cpu_ms_per_request(self) -> float:
        return self.per_request_ms(self.server_cpu)

    @property
    def driver_ms_per_request(self) -> float:
        return self.per_request_ms(self.driver_cpu)

    @property
    def machine_ms_per_request(self) -> float:
        return self.per_request_ms(self.machine_cpu)

    @property
    def rest_ms_per_request(self) -> float:
        """The machine's CPU a request that neither the server nor the driver used."""
        return self.machine_ms_per_request - self.cpu_ms_per_request - self.driver_ms_per_request

    @property
    def machine_busy(self) -> float:
        """The share of all cores' time spent working during the run."""
        capacity = self.load.elapsed * self.cores
        return self.machine_cpu / capacity if capacity > 0 else math.nan


def _median(values: list[float]) -> float:
    values = [value for value in values if not math.isnan(value)]
    return statistics.median(values) if values else math.nan


@dataclass
class Row:
    scenario: str
    server: str
    phases: list[Phase] = field(default_factory=list)
    baseline: Row | None = None
    note: str = ""

    @property
    def throughput(self) -> float:
        return _median([phase.load.throughput for phase in self.phases])

    @property
    def p50_ms(self) -> float:
        return 1000 * _median([phase.load.median for phase in self.phases])

    @property
    def p99_ms(self) -> float:
        return 1000 * _median([phase.load.p99 for phase in self.phases])

    @property
    def cpu_ms(self) -> float:
        return _median([phase.cpu_ms_per_request for phase in self.phases])

    @property
    def driver_ms(self) -> float:
        return _median([phase.driver_ms_per_request for phase in self.phases])

    @property
    def rest_ms(self) -> float:
        return _median([phase.rest_ms_per_request for phase in self.phases])

    @property
    def machine_ms(self) -> float:
        return _median([phase.machine_ms_per_request for phase in self.phases])

    @property
    def machine_busy(self) -> float:
        return _median([phase.machine_busy for phase in self.phases])

    @property
    def peak_rss_mib(self) -> float:
        return max((phase.peak_rss_mib for phase in self.phases), default=math.nan)

    @property
    def errors(self) -> int:
        return sum(phase.load.error_count for phase in self.phases)

    @property
    def requests(self) -> int:
        return sum(phase.requests for phase in self.phases)

    @property
    def ratio(self) -> float:
        if self.baseline is None or not self.baseline.throughput:
            return math.nan
        return self.throughput / self.baseline.throughput

    def as_dict(self) -> dict[str, Any]:
        error_kinds: dict[str, int] = {}
        for phase in self.phases:
            for kind, count in phase.load.errors.items():
                error_kinds[kind] = error_kinds.get(kind, 0) + count
        return {
            "scenario": self.scenario,
            "server": self.server,
            "repetitions": len(self.phases),
            "requests": self.requests,
            "throughput_per_s": round(self.throughput, 1),
            "p50_ms": round(self.p50_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "server_cpu_ms_per_request": round(self.cpu_ms, 2),
            "driver_cpu_ms_per_request": _rounded(self.driver_ms, 2),
            "machine_cpu_ms_per_request": _rounded(self.machine_ms, 2),
            "machine_busy": _rounded(self.machine_busy, 3),
            "peak_rss_mib": round(self.peak_rss_mib, 1),
            "errors": self.errors,
            "error_kinds": error_kinds,
            "ratio_to_baseline": None if math.isnan(self.ratio) else round(self.ratio, 3),
            "per_repetition_throughput": [round(p.load.throughput, 1) for p in self.phases],
            "per_repetition_p50_ms": [round(1000 * p.load.median, 2) for p in self.phases],
            "note": self.note,
        }


def _rounded(value: float, digits: int) -> float | None:
    return None if math.isnan(value) else round(value, digits)


def _fmt(value: float, digits: int = 1) -> str:
    return "-" if math.isnan(value) else f"{value:,.{digits}f}"


HEADER = (
    "scenario",
    "server",
    "req/s",
    "p50 ms",
    "p99 ms",
    "CPU ms/req",
    "peak RSS MB",
    "errors",
    "requests",
    "QL/base",
)


def table(rows: list[Row]) -> str:
    return _aligned(
        HEADER,
        [
            (
                row.scenario,
                row.server,
                _fmt(row.throughput),
                _fmt(row.p50_ms, 2),
                _fmt(row.p99_ms, 2),
                _fmt(row.cpu_ms, 2),
                _fmt(row.peak_rss_mib),
                str(row.errors),
                str(row.requests),
                "-" if math.isnan(row.ratio) else f"{row.ratio:.2f}",
            )
            for row in rows
        ],
    )


BUDGET_HEADER = (
    "scenario",
    "server",
    "server ms",
    "driver ms",
    "rest ms",
    "machine ms",
    "machine busy",
)


def budget_table(rows: list[Row]) -> str:
    """Where each request's CPU went on the whole machine: the server process, the load driver,
    and the rest (PostgreSQL's processes, the kernel's work for them, anything else running),
    in milliseconds a request; and how busy all cores were. On a machine the driver shares, a
    server's rate follows the machine's CPU a request, not its own alone."""
    return _aligned(
        BUDGET_HEADER,
        [
            (
                row.scenario,
                row.server,
                _fmt(row.cpu_ms, 2),
                _fmt(row.driver_ms, 2),
                _fmt(row.rest_ms, 2),
                _fmt(row.machine_ms, 2),
                "-" if math.isnan(row.machine_busy) else f"{row.machine_busy:.0%}",
            )
            for row in rows
        ],
    )


def _aligned(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """Columns padded to their widest cell; the first two left-aligned, the figures right."""
    lines = [header, *rows]
    widths = [max(len(line[index]) for line in lines) for index in range(len(header))]
    out = []
    for number, line in enumerate(lines):
        cells = [
            cell.ljust(width) if index < 2 else cell.rjust(width)
            for index, (cell, width) in enumerate(zip(line, widths, strict=True))
        ]
        out.append("  ".join(cells))
        if number == 0:
            out.append("  ".join("-" * width for width in widths))
    return "\n".join(out)


@dataclass(frozen=True)
class Check:
    target: str
    measured: str
    passed: bool | None  # None: not measured in this run

    def line(self) -> str:
        verdict = {True: "PASS", False: "FAIL", None: "n/a "}[self.passed]
        return f"[{verdict}] {self.target}: {self.measured}"
