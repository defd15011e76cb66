"""The year's statistics over many cases (issue 20): read in batches, so memory stays flat
however many cases a year holds, with the same figures as reading them all at once."""

from __future__ import annotations

import tracemalloc

import pytest

from bench.bulk import add_cases
from intake.operations import stats
from tests.support.instance import Instance

CASES = 6_000  # over three years: about 2,000 in the year counted


@pytest.mark.slow
async def test_a_years_statistics_are_read_in_batches_with_flat_memory(
    seeded: Instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = seeded.runtime
    today = runtime.today()
    await add_cases(seeded.settings, CASES, today=today)
    year = today.year - 1
    async with runtime.sessions() as session:
        every = await stats.facts_for_year(session, year)
        assert len(every) > CASES / 5
        whole = stats.compute(every, year=year, as_of=today, rules=runtime.rules, categories={})
        monkeypatch.setattr(stats, "FACTS_BATCH", 100, raising=False)
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
    # Reading the whole year at once held every row and its facts (about 1 KB a case).
    assert peak < 400 * len(every), f"{peak / 1e6:.1f} MB for {len(every)} cases"
