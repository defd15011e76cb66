"""Annual statistics: figures match counts computed independently here, small cells are
suppressed, nothing can be worked out by subtraction, and deletion changes no count."""

from __future__ import annotations

import csv
import functools
import io
import json
import os
import random
import statistics
import subprocess
import sys
from collections import Counter
from datetime import date, timedelta

import anyio.to_thread
from sqlmodel import select

from intake.accounts.organisation import Identity
from intake.casework import retention
from intake.deadlines import add_months
from intake.operations import small_cells, stats
from intake.storage import db
from intake.storage.models import Case
from intake.web import charts
from intake.web.templating import templates
from tests.support.casefactory import file_report
from tests.support.instance import Instance, quietline_environ

YEAR = 2025
AS_OF = date(2026, 3, 1)
FEWER = "fewer than 5"
# Category weights chosen so some cells are large, some small, one empty.
CATEGORY_COUNTS = {"financial": 31, "conduct": 22, "safety": 12, "social-media": 3, "other": 1}


def _plan(rng: random.Random) -> list[dict[str, object]]:
    """What each generated case is: its category, kind, dates, stage and outcome."""
    plans = []
    categories = [c for c, n in CATEGORY_COUNTS.items() for _ in range(n)]
    rng.shuffle(categories)
    for index, category in enumerate(categories):
        received = date(YEAR, 1, 1) + timedelta(days=rng.randrange(365))
        if received.month == 7:  # July gets few reports: a small month cell
            received = received.replace(month=6)
        plan: dict[str, object] = {
            "category": category,
            "kind": "reprisal" if index % 19 == 0 else "report",
            "received_on": received,
            "ack_due": received + timedelta(days=7),
            "stage": "received",
        }
        roll = rng.random()
        if roll > 0.12:
            acknowledged = received + timedelta(days=rng.randrange(0, 12))
            plan.update(
                stage="assessing",
                acknowledged_on=acknowledged,
                feedback_due=add_months(acknowledged, 3),
            )
            if roll > 0.3:
                plan["stage"] = "investigating"
            if roll > 0.45:
                concluded = acknowledged + timedelta(days=rng.randrange(5, 150))
                outcome = rng.choice(
                    ["substantiated"] * 3
                    + ["not_substantiated"] * 4
                    + ["no_action"] * 5
                    + ["referred"]
                )
                plan.update(stage="concluded", outcome=outcome, concluded_on=concluded)
            if rng.random() < 0.5:
                plan["first_reply_on"] = acknowledged + timedelta(days=rng.randrange(1, 120))
        plans.append(plan)
    return plans


def _july_plan() -> list[dict[str, object]]:
    received = date(YEAR, 7, 14)
    return [
        {
            "category": "financial",
            "kind": "report",
            "received_on": received,
            "ack_due": received + timedelta(days=7),
            "stage": "received",
        }
        for _ in range(2)
    ]


def _expected(plans: list[dict[str, object]]) -> dict[str, object]:
    """The true figures, computed straight from the plan."""

    def progress(plan: dict[str, object]) -> str:
        if plan["stage"] == "concluded":
            return str(plan["outcome"])
        return "under_investigation" if plan["stage"] == "investigating" else "awaiting_decision"

    states = Counter(progress(plan) for plan in plans)
    investigated = (
        states["under_investigation"] + states["substantiated"] + states["not_substantiated"]
    )

    def ack_missed(plan: dict[str, object]) -> bool:
        done = plan.get("acknowledged_on") or plan.get("concluded_on")
        return done > plan["ack_due"] if done else AS_OF > plan["ack_due"]

    def feedback_missed(plan: dict[str, object]) -> bool:
        due = plan.get("feedback_due")
        if due is None:
            return False
        given = [d for d in (plan.get("first_reply_on"), plan.get("concluded_on")) if d]
        return min(given) > due if given else AS_OF > due

    return {
        "received": len(plans),
        "by_kind": Counter(str(plan["kind"]) for plan in plans),
        "by_category": Counter(str(plan["category"]) for plan in plans),
        "by_month": Counter(f"{plan['received_on']:%Y-%m}" for plan in plans),
        "progress": states,
        "investigations_started": investigated,
        "acted_on": investigated + states["referred"],
        "concluded": sum(
            states[o] for o in ("substantiated", "not_substantiated", "referred", "no_action")
        ),
        "ack_missed": sum(map(ack_missed, plans)),
        "feedback_missed": sum(map(feedback_missed, plans)),
        "median_ack": statistics.median(
            (p["acknowledged_on"] - p["received_on"]).days
            for p in plans
            if p.get("acknowledged_on")
        ),
        "median_conclude": statistics.median(
            (p["concluded_on"] - p["received_on"]).days for p in plans if p.get("concluded_on")
        ),
    }


def _agrees(published: object, true: int) -> bool:
    if published == FEWER:
        return 1 <= true <= 4
    if published == "withheld":
        return true >= 5
    return published == true


def _check(figures: dict, truth: dict) -> None:
    assert _agrees(figures["received"], truth["received"])
    assert _agrees(figures["reprisal_complaints"], truth["by_kind"]["reprisal"])
    for kind in ("report", "reprisal"):
        assert _agrees(figures["by_kind"][kind], truth["by_kind"][kind])
    for name in ("acted_on", "investigations_started", "concluded"):
        assert _agrees(figures[name], truth[name]), name
    assert _agrees(figures["not_acted_on"], truth["progress"]["no_action"])
    for name, value in figures["progress"].items():
        assert _agrees(value, truth["progress"][name]), name
    for name, value in figures["concluded_by_outcome"].items():
        assert _agrees(value, truth["progress"][name]), name
    assert set(figures["by_category"]) >= set(truth["by_category"])
    for ident, value in figures["by_category"].items():
        assert _agrees(value, truth["by_category"][ident]), ident
    assert len(figures["by_month"]) == 12
    for month, value in figures["by_month"].items():
        assert _agrees(value, truth["by_month"][month]), month
    assert _agrees(figures["deadlines_missed"]["acknowledgement"], truth["ack_missed"])
    assert _agrees(figures["deadlines_missed"]["feedback"], truth["feedback_missed"])
    assert figures["median_days_to_acknowledge"] == round(float(truth["median_ack"]), 1)
    assert figures["median_days_to_conclude"] == round(float(truth["median_conclude"]), 1)


def _no_cell_derivable(figures: dict) -> None:
    """No published sum has exactly one hidden part: nothing small falls out by subtraction."""
    sums = [
        (figures["received"], figures["by_category"].values()),
        (figures["received"], figures["by_month"].values()),
        (figures["received"], figures["by_kind"].values()),
        (figures["received"], figures["progress"].values()),
        (figures["concluded"], figures["concluded_by_outcome"].values()),
        (figures["acted_on"], [figures["investigations_started"], figures["progress"]["referred"]]),
    ]
    for total, parts in sums:
        hidden = [part for part in parts if not isinstance(part, int)]
        if isinstance(total, int):
            assert len(hidden) != 1, (total, list(parts))
            if hidden:
                assert total - sum(p for p in parts if isinstance(p, int)) >= 5 or len(hidden) > 1
        else:
            assert hidden, (total, list(parts))


async def _generate(seeded: Instance) -> tuple[list[dict[str, object]], list[str]]:
    rng = random.Random(2025)
    plans = _plan(rng) + _july_plan()
    outside = [  # other years: never counted
        {"category": "financial", "kind": "report", "received_on": date(YEAR - 1, 12, 31),
         "ack_due": date(YEAR, 1, 7), "stage": "received"},
        {"category": "financial", "kind": "report", "received_on": date(YEAR + 1, 1, 1),
         "ack_due": date(YEAR + 1, 1, 8), "stage": "received"},
    ]  # fmt: skip
    ids = []
    for plan in plans + outside:
        _, case = await file_report(seeded.runtime, category=str(plan["category"]))
        ids.append(case.id)
    async with db.transaction(seeded.runtime.sessions) as session:
        for case_id, plan in zip(ids, plans + outside, strict=True):
            case = (await session.exec(select(Case).where(Case.id == case_id))).one()
            for name, value in plan.items():
                setattr(case, name, value)
            session.add(case)
    return plans, ids


async def test_stats_match_an_independent_count_and_survive_deletion(seeded: Instance) -> None:
    runtime = seeded.runtime
    plans, ids = await _generate(seeded)
    truth = _expected(plans)
    async with runtime.sessions() as session:
        figures = await stats.annual(
            session, year=YEAR, as_of=AS_OF, rules=runtime.rules, threshold=5
        )
    assert figures["received"] == len(plans)  # the top-level total, beside the breakdowns
    _check(figures, truth)
    _no_cell_derivable(figures)
    # Small cells really are hidden: 3 social-media, 1 other, 2 in July, 4 reprisals.
    assert figures["by_category"]["social-media"] == FEWER
    assert figures["by_category"]["other"] == FEWER
    assert figures["by_category"]["reprisal"] == 0
    assert figures["by_month"][f"{YEAR}-07"] == FEWER
    assert figures["reprisal_complaints"] == FEWER
    # ... and with them a larger cell, or "other" would follow from the total.
    assert (
        "withheld" in figures["by_category"].values()
        or list(figures["by_category"].values()).count(FEWER) >= 2
    )
    text = json.dumps(figures)
    for true_small in (3, 1):
        assert f'"social-media": {true_small}' not in text

    # Deleting concluded cases changes no figure.
    to_purge = [
        case_id for case_id, plan in zip(ids, plans, strict=False) if plan["stage"] == "concluded"
    ][:10]
    for case_id in to_purge:
        async with db.transaction(runtime.sessions) as session:
            case = (await session.exec(select(Case).where(Case.id == case_id))).one()
            await retention.shred_case(session, runtime, case, today=AS_OF, actor="test")
    async with runtime.sessions() as session:
        after = await stats.annual(
            session, year=YEAR, as_of=AS_OF, rules=runtime.rules, threshold=5
        )
    assert after == figures


async def _cli(environ: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "intake.cli", *args]
    return await anyio.to_thread.run_sync(
        functools.partial(
            subprocess.run,
            command,
            capture_output=True,
            text=True,
            env=environ,
            timeout=120,
            check=False,
        )
    )


async def test_stats_command_json_and_csv(sqlite_seeded: Instance) -> None:
    plans, _ = await _generate(sqlite_seeded)
    environ = {**os.environ, **quietline_environ(sqlite_seeded.settings.data_dir)}
    outputs = {}
    for form in ("json", "csv"):
        result = await _cli(environ, "stats", "--year", str(YEAR), "--format", form)
        assert result.returncode == 0, result.stderr
        outputs[form] = result.stdout
    figures = json.loads(outputs["json"])
    assert figures["received"] == len(plans)
    rows = dict(csv.reader(io.StringIO(outputs["csv"])))
    assert rows["received"] == str(len(plans))
    assert rows["by_category.social-media"] == FEWER
    assert rows["by_month.2025-01"] == str(figures["by_month"]["2025-01"])
    bad = await _cli(environ, "stats", "--year", "twenty")
    assert bad.returncode == 2 and "is not a year" in bad.stderr


def test_suppression_rule_on_small_tables() -> None:
    def hide(cells: dict[str, int], total: int) -> set[str]:
        everything = {"total": total, **cells}
        return small_cells.suppress(everything, [("total", list(cells))], 5)

    # A lone small cell would follow from the total: the smallest other cell goes too.
    assert hide({"a": 10, "b": 2, "c": 0, "d": 7}, 19) == {"b", "d"}
    # Two small cells adding to 5 or more leave a choice: nothing more is hidden.
    assert hide({"a": 10, "b": 2, "c": 3}, 15) == {"b", "c"}
    # Two small cells of 1 each must be 1 and 1: another cell goes.
    assert hide({"a": 10, "b": 1, "c": 1, "d": 6}, 18) == {"b", "c", "d"}
    # Two cells of 4 must be 4 and 4, and there is nothing else to hide: the total goes.
    assert hide({"a": 4, "b": 4}, 8) == {"a", "b", "total"}
    # A small cell and a withheld one at their least (1 + 5) would be pinned: hide more.
    assert hide({"a": 1, "b": 5, "c": 9}, 15) == {"a", "b", "c"}
    # Zero is shown; a small total hides every non-zero part.
    assert hide({"a": 3, "b": 0}, 3) == {"a", "total"}


async def test_stats_page_draws_svg_charts_without_script(sqlite_seeded: Instance) -> None:
    await _generate(sqlite_seeded)
    async with sqlite_seeded.runtime.sessions() as session:
        figures = await stats.annual(
            session, year=YEAR, as_of=AS_OF, rules=sqlite_seeded.runtime.rules, threshold=5
        )
    page = templates.env.get_template("stats/annual.html").render(
        figures=figures,
        charts=charts.charts_for(figures),
        outcome_names=charts.OUTCOME_NAMES,
        org=Identity(),
        service_name="Quietline",
        answer_labels={},
    )
    assert page.count("<svg") == 3
    assert "<script" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )
    assert "https://" not in page
    assert FEWER in page
