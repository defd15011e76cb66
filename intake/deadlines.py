"""Due dates: acknowledgement and feedback deadlines, on a calendar or business-day clock.

The rules differ by jurisdiction, so every number here comes from settings:
the default (7 days to acknowledge, 3 months to give feedback) follows
EU Directive 2019/1937 art. 9.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta


@dataclass(frozen=True)
class DeadlineRules:
    ack_days: int = 7
    feedback_months: int = 3
    clock: str = "calendar"  # calendar | business
    holidays: frozenset[date] = field(default_factory=frozenset)
    reprisal_ack_days: int = 2

    @classmethod
    def from_values(
        cls,
        *,
        ack_days: int,
        feedback_months: int,
        clock: str,
        holidays: Iterable[str],
        reprisal_ack_days: int = 2,
    ) -> DeadlineRules:
        return cls(
            ack_days=ack_days,
            feedback_months=feedback_months,
            clock=clock,
            holidays=frozenset(date.fromisoformat(day) for day in holidays),
            reprisal_ack_days=reprisal_ack_days,
        )

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def add_days(self, start: date, days: int) -> date:
        if self.clock == "calendar":
            return start + timedelta(days=days)
        day = start
        remaining = days
        while remaining > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def _next_working_day(self, day: date) -> date:
        if self.clock == "calendar":
            return day
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def ack_due(self, received_on: date, *, kind: str = "report") -> date:
        days = self.reprisal_ack_days if kind == "reprisal" else self.ack_days
        return self.add_days(received_on, days)

    def feedback_due(self, acknowledged_on: date) -> date:
        return self._next_working_day(add_months(acknowledged_on, self.feedback_months))


def add_months(start: date, months: int) -> date:
    """The same day ``months`` later, clamped to the end of a shorter month."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(start.day, last_day))
