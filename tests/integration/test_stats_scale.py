"""The year's statistics over many cases: counted in groups by the database, so memory stays
flat however many cases a year holds, with the same figures as counting each case's facts."""

from __future__ import annotations

import tracemalloc

import pytest

from bench.bulk import add_cases
from intake.operations import stats, stats_facts
from tests.support.instance import Instance

CASES = 6_000  # over three years: about 2,000 in the year counted


@pytest.mark.slow
async def test_a_years_statistics_are_counted_in_groups_with_flat_memory(
    seeded: Instance,
) -> None:
    runtime = seeded.runtime
    today = runtime.today()
    await add_cases(seeded.settings, CASES, today=today)
    year = today.year - 1
    async with runtime.sessions() as session:
        every = await stats_facts.facts_for_year(session, year)
        assert len(every) > CASES / 5
        whole = stats.compute(every, year=year, as_of=today, rules=runtime.rules, categories={})
        tracemalloc.start()
        try:
            published = await stats.annual(
                session, year=year, as_of=today, rules=runtime.rules, threshold=5
            )
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert published["received"] == whole.cells["received"] == len(every)
    assert published == stats.publish(
        stats.compute(
            every,
            year=year,
            as_of=today,
            rules=runtime.rules,
            categories=published["category_labels"],
        ),
        5,
    )
    # Reading the whole year at once held every row and its facts (about 1 KB a case); the
    # groups of like cases are fewer than the cases, and smaller.
    assert peak < 400 * len(every), f"{peak / 1e6:.1f} MB for {len(every)} cases"
