"""Annual statistics for council, from plaintext columns only (nothing is decrypted).

Every figure counts the cases *received* during the year (both kinds: reports and
reprisal complaints), and describes their progress as of the day the figures are
computed (``as_of``). Deleted (purged) cases count too: their stubs keep the
facts used here.

Definitions (each case falls in exactly one *progress* cell):

- ``awaiting_decision``: not yet concluded and not under investigation;
- ``under_investigation``: at the investigating stage;
- ``substantiated``, ``not_substantiated``, ``referred``, ``no_action``, ``other``:
  concluded, by outcome.

From these: *investigations started* = under_investigation + substantiated +
not_substantiated; *acted on* = investigations started + referred; *not acted on*
= no_action; *concluded* = every concluded cell.

How reports came in: ``reporting.confidential`` counts the cases whose reporter has given an
identity under seal and not withdrawn it (intake/casework/identity.py); ``reporting.anonymous``
every other case.

Small cells (see :func:`intake.operations.small_cells.suppress`): a count from 1 to
``threshold - 1`` is shown as "fewer than N"; cells that would let one be worked out by
subtraction are withheld too. Zero is shown as 0: it describes no one. What is read of each
case, and how a year is counted in the database, is in intake/operations/stats_facts.py.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.casework import questionnaires
from intake.casework.vocabulary import CaseKind
from intake.deadlines import DeadlineRules
from intake.operations import stats_facts
from intake.operations.small_cells import suppress
from intake.operations.stats_facts import OUTCOMES, CaseFacts, progress_of
from intake.storage.models import Category

PROGRESS = ("awaiting_decision", "under_investigation", *OUTCOMES, "other")
KINDS = tuple(CaseKind)
REPORTING = ("anonymous", "confidential")
Shown = int | str


@dataclass(frozen=True)
class RawFigures:
    """Exact counts, before small cells are hidden. Never published as such."""

    year: int
    as_of: date
    cells: dict[str, int]
    partitions: list[tuple[str, list[str]]]
    days_to_acknowledge: Counter[int]  # days: how many cases
    days_to_conclude: Counter[int]
    categories: dict[str, str]
    # Statistical questions (intake/casework/questionnaires.py): "scope:question" → choices.
    answers: dict[str, list[str]] = field(default_factory=dict)


def add_answer_counts(raw: RawFigures, counts: dict[str, dict[str, int]]) -> None:
    """The year's counts of statistical answers, as cells with their total (the reports that
    answered): suppressed together with every other figure."""
    for question, choices in sorted(counts.items()):
        names = [f"answer.{question}.{choice}" for choice in sorted(choices)]
        for choice, name in zip(sorted(choices), names, strict=True):
            raw.cells[name] = choices[choice]
        raw.cells[f"answer.{question}"] = sum(choices.values())
        raw.partitions.append((f"answer.{question}", names))
        raw.answers[question] = sorted(choices)


@dataclass
class _Tally:
    """The year's counts, gathered one case or one group of like cases at a time."""

    as_of: date
    rules: DeadlineRules
    received: int = 0
    ack_missed: int = 0
    feedback_missed: int = 0
    progress: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    reporting: Counter[str] = field(default_factory=Counter)
    by_category: Counter[str] = field(default_factory=Counter)
    by_month: Counter[int] = field(default_factory=Counter)
    days_to_acknowledge: Counter[int] = field(default_factory=Counter)
    days_to_conclude: Counter[int] = field(default_factory=Counter)

    def add(self, case: CaseFacts) -> None:
        self.add_group(
            case,
            month=case.received_on.month,
            ack_missed=stats_facts.ack_missed(case, self.as_of),
            feedback_missed=stats_facts.feedback_missed(case, self.as_of, self.rules),
            days_to_acknowledge=_days(case.acknowledged_on, case.received_on),
            days_to_conclude=_days(case.concluded_on, case.received_on),
            count=1,
        )

    def add_row(self, row: Sequence[Any]) -> None:
        """A row of :func:`stats_facts.grouped_facts`."""
        kind, category, stage, outcome, month, confidential, ack_missed, feedback_missed = row[:8]
        legacy_acknowledged_on, legacy_given, count = row[8:]
        if legacy_acknowledged_on is not None:
            due = self.rules.feedback_due(legacy_acknowledged_on)
            feedback_missed = legacy_given > due if legacy_given else self.as_of > due
        self.add_group(
            _Grouped(kind, category, stage, outcome, bool(confidential)),
            month=int(month),
            ack_missed=bool(ack_missed),
            feedback_missed=bool(feedback_missed),
            days_to_acknowledge=None,
            days_to_conclude=None,
            count=count,
        )

    def add_days(self, row: Sequence[Any]) -> None:
        """A row of :func:`stats_facts.grouped_days`."""
        to_acknowledge, to_conclude, count = row
        if to_acknowledge is not None:
            self.days_to_acknowledge[to_acknowledge] += count
        if to_conclude is not None:
            self.days_to_conclude[to_conclude] += count

    def add_group(
        self,
        case: CaseFacts | _Grouped,
        *,
        month: int,
        ack_missed: bool,
        feedback_missed: bool,
        days_to_acknowledge: int | None,
        days_to_conclude: int | None,
        count: int,
    ) -> None:
        self.received += count
        self.progress[case.progress] += count
        self.kinds[case.kind] += count
        self.reporting["confidential" if case.confidential else "anonymous"] += count
        self.by_category[case.category] += count
        self.by_month[month] += count
        self.ack_missed += count * ack_missed
        self.feedback_missed += count * feedback_missed
        if days_to_acknowledge is not None:
            self.days_to_acknowledge[days_to_acknowledge] += count
        if days_to_conclude is not None:
            self.days_to_conclude[days_to_conclude] += count


@dataclass(frozen=True)
class _Grouped:
    """What a group of like cases share, as :class:`CaseFacts` names it."""

    kind: str
    category: str
    stage: str
    outcome: str | None
    confidential: bool

    @property
    def progress(self) -> str:
        return progress_of(self.stage, self.outcome)


def _days(later: date | None, earlier: date) -> int | None:
    return None if later is None else (later - earlier).days


def median_of(histogram: Counter[int]) -> float:
    """The median of the values a histogram (value: how many times) holds."""
    values = sorted(histogram)

    def at(place: int) -> int:  # the value at a place (from 0) in sorted order
        seen = 0
        for value in values:
            seen += histogram[value]
            if place < seen:
                return value
        raise IndexError(place)

    total = histogram.total()
    return (at((total - 1) // 2) + at(total // 2)) / 2


def compute(
    facts: Iterable[CaseFacts],
    *,
    year: int,
    as_of: date,
    rules: DeadlineRules,
    categories: dict[str, str],
) -> RawFigures:
    tally = _Tally(as_of, rules)
    for each in facts:
        tally.add(each)
    return _figures(tally, year=year, categories=categories)


def _figures(tally: _Tally, *, year: int, categories: dict[str, str]) -> RawFigures:
    progress, kinds, reporting, by_category, by_month = (
        tally.progress,
        tally.kinds,
        tally.reporting,
        tally.by_category,
        tally.by_month,
    )
    labels = dict(categories)
    for ident in by_category:
        labels.setdefault(ident, ident)
    cells: dict[str, int] = {"received": tally.received}
    cells.update({f"progress.{name}": progress[name] for name in PROGRESS})
    cells.update({f"kind.{name}": kinds[name] for name in KINDS})
    cells.update({f"reporting.{name}": reporting[name] for name in REPORTING})
    cells.update({f"category.{ident}": by_category[ident] for ident in labels})
    cells.update({f"month.{year}-{month:02d}": by_month[month] for month in range(1, 13)})
    investigated = ["progress.under_investigation", "progress.substantiated"]
    investigated.append("progress.not_substantiated")
    acted = [*investigated, "progress.referred"]
    concluded = [f"progress.{name}" for name in (*OUTCOMES, "other")]
    cells["investigations_started"] = sum(cells[name] for name in investigated)
    cells["acted_on"] = sum(cells[name] for name in acted)
    cells["concluded"] = sum(cells[name] for name in concluded)
    cells["deadline.acknowledgement"] = tally.ack_missed
    cells["deadline.feedback"] = tally.feedback_missed
    # Each published sum with the cells that make it up: what a reader can subtract.
    partitions = [
        ("received", [f"progress.{name}" for name in PROGRESS]),
        ("received", [f"kind.{name}" for name in KINDS]),
        ("received", [f"reporting.{name}" for name in REPORTING]),
        ("received", [f"category.{ident}" for ident in labels]),
        ("received", [f"month.{year}-{month:02d}" for month in range(1, 13)]),
        ("investigations_started", investigated),
        ("acted_on", acted),
        ("acted_on", ["investigations_started", "progress.referred"]),
        ("concluded", concluded),
    ]
    return RawFigures(
        year=year,
        as_of=tally.as_of,
        cells=cells,
        partitions=partitions,
        days_to_acknowledge=tally.days_to_acknowledge,
        days_to_conclude=tally.days_to_conclude,
        categories=labels,
    )


def publish(raw: RawFigures, threshold: int) -> dict[str, Any]:
    """The figures as published: small and derivable cells hidden."""
    hidden = suppress(raw.cells, raw.partitions, threshold)
    fewer = f"fewer than {threshold}"

    def shown(name: str) -> Shown:
        value = raw.cells[name]
        if name not in hidden:
            return value
        return fewer if value < threshold else "withheld"

    def median(days: Counter[int]) -> float | str | None:
        if not days:
            return None
        if days.total() < threshold:
            return f"{fewer} cases"
        return round(median_of(days), 1)

    return {
        "year": raw.year,
        "as_of": raw.as_of.isoformat(),
        "received": shown("received"),
        "by_kind": {name: shown(f"kind.{name}") for name in KINDS},
        "reprisal_complaints": shown("kind.reprisal"),
        "by_reporting": {name: shown(f"reporting.{name}") for name in REPORTING},
        "acted_on": shown("acted_on"),
        "not_acted_on": shown("progress.no_action"),
        "investigations_started": shown("investigations_started"),
        "progress": {name: shown(f"progress.{name}") for name in PROGRESS},
        "concluded": shown("concluded"),
        "concluded_by_outcome": {name: shown(f"progress.{name}") for name in (*OUTCOMES, "other")},
        "median_days_to_acknowledge": median(raw.days_to_acknowledge),
        "median_days_to_conclude": median(raw.days_to_conclude),
        "deadlines_missed": {
            "acknowledgement": shown("deadline.acknowledgement"),
            "feedback": shown("deadline.feedback"),
        },
        "by_category": {ident: shown(f"category.{ident}") for ident in raw.categories},
        "by_answer": {
            question: {
                "answered": shown(f"answer.{question}"),
                "choices": {choice: shown(f"answer.{question}.{choice}") for choice in choices},
            }
            for question, choices in raw.answers.items()
        },
        "category_labels": dict(raw.categories),
        "by_month": {
            f"{raw.year}-{month:02d}": shown(f"month.{raw.year}-{month:02d}")
            for month in range(1, 13)
        },
        "suppression": {
            "threshold": threshold,
            "fewer": fewer,
            "withheld": f"{threshold} or more, withheld so that a smaller count cannot be "
            "worked out by subtraction",
        },
    }


async def annual(
    session: AsyncSession, *, year: int, as_of: date, rules: DeadlineRules, threshold: int
) -> dict[str, Any]:
    categories = {
        category.id: category.label
        for category in (
            await session.exec(select(Category).order_by(col(Category.position)))
        ).all()
    }
    tally = _Tally(as_of, rules)
    # Two grouped reads: their rows are bounded by the combinations of a few facts and of
    # the days, however many cases the year holds.
    for row in (await session.exec(stats_facts.grouped_facts(year, as_of))).all():
        tally.add_row(row)
    for row in (await session.exec(stats_facts.grouped_days(year))).all():
        tally.add_days(row)
    raw = _figures(tally, year=year, categories=categories)
    add_answer_counts(raw, await questionnaires.year_counts(session, year))
    return publish(raw, threshold)


def flatten(figures: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for key, value in figures.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows.extend(flatten(value, f"{name}."))
        else:
            rows.append((name, value))
    return rows


def to_csv(figures: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["figure", "value"])
    for name, value in flatten(figures):
        if name.startswith(("suppression.", "category_labels.")):
            continue
        writer.writerow([name, "" if value is None else value])
    return buffer.getvalue()
