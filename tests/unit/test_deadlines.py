"""Due dates on calendar and business-day clocks."""

from __future__ import annotations

from datetime import date

from intake.deadlines import DeadlineRules, add_months


def test_calendar_clock_defaults() -> None:
    rules = DeadlineRules()
    assert rules.ack_due(date(2026, 11, 20)) == date(2026, 11, 27)
    assert rules.feedback_due(date(2026, 11, 30)) == date(2027, 2, 28)


def test_business_clock_skips_weekends_and_holidays() -> None:
    rules = DeadlineRules.from_values(
        ack_days=7, feedback_months=3, clock="business", holidays=["2026-12-25", "2026-12-28"]
    )
    # Friday 18 Dec + 7 working days, skipping two weekends and two holidays.
    assert rules.ack_due(date(2026, 12, 18)) == date(2026, 12, 31)
    # A feedback date on a Sunday moves to the next working day.
    assert rules.feedback_due(date(2026, 11, 7)) == date(2027, 2, 8)


def test_reprisal_complaints_have_a_shorter_acknowledgement_deadline() -> None:
    rules = DeadlineRules()
    assert rules.ack_due(date(2026, 11, 20), kind="reprisal") == date(2026, 11, 22)


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)
