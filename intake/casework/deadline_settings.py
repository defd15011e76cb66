"""The deadline rules in force: set by administrators (stored in the Setting table), else from
the environment (``QUIETLINE_ACK_DAYS`` and friends) as the starting values.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from intake.deadlines import DeadlineRules
from intake.errors import InvalidInput
from intake.i18n import N_, Phrase
from intake.numbers import is_digits
from intake.runtime import Runtime
from intake.storage.models import Setting

KEY = "deadlines"
CLOCKS = ("calendar", "business")


async def current_rules(session: AsyncSession, runtime: Runtime) -> DeadlineRules:
    stored = await session.get(Setting, KEY)
    return rules_from(stored.value if stored else None, runtime)


def rules_from(stored: str | None, runtime: Runtime) -> DeadlineRules:
    """The rules in force, given the stored setting's value (None when none is stored)."""
    return runtime.rules if stored is None else _parse_stored(stored)


@functools.lru_cache(maxsize=16)
def _parse_stored(stored: str) -> DeadlineRules:
    """Every report reads the setting; the rules it holds are parsed once per value."""
    values = json.loads(stored)
    return DeadlineRules.from_values(
        ack_days=int(values["ack_days"]),
        feedback_months=int(values["feedback_months"]),
        clock=str(values["clock"]),
        holidays=list(values["holidays"]),
        reprisal_ack_days=int(values["reprisal_ack_days"]),
    )


@dataclass(frozen=True)
class DeadlineForm:
    ack_days: str
    reprisal_ack_days: str
    feedback_months: str
    clock: str
    holidays: str  # one ISO date per line, or separated by commas


def _number(text: str, *, field: str, what: str, low: int, high: int) -> int:
    text = text.strip()
    if not is_digits(text) or not low <= int(text) <= high:
        raise InvalidInput(
            N_("%(what)s must be a whole number from %(low)s to %(high)s."),
            field=field,
            what=Phrase(what),
            low=low,
            high=high,
        )
    return int(text)


def parse(form: DeadlineForm) -> DeadlineRules:
    """Validate what an administrator typed; raise InvalidInput naming the field."""
    ack_days = _number(
        form.ack_days, field="ack_days", what=N_("Days to acknowledge"), low=1, high=90
    )
    reprisal = _number(
        form.reprisal_ack_days,
        field="reprisal_ack_days",
        what=N_("Days to acknowledge a reprisal complaint"),
        low=1,
        high=90,
    )
    months = _number(
        form.feedback_months,
        field="feedback_months",
        what=N_("Months to give feedback"),
        low=1,
        high=24,
    )
    if form.clock not in CLOCKS:
        raise InvalidInput(N_("Choose calendar days or business days."), field="clock")
    holidays = []
    for item in form.holidays.replace(",", "\n").splitlines():
        if not item.strip():
            continue
        try:
            holidays.append(date.fromisoformat(item.strip()))
        except ValueError:
            raise InvalidInput(
                N_("“%(value)s” is not a date: write holidays as YYYY-MM-DD, one per line."),
                field="holidays",
                value=item.strip(),
            ) from None
    return DeadlineRules(
        ack_days=ack_days,
        feedback_months=months,
        clock=form.clock,
        holidays=frozenset(holidays),
        reprisal_ack_days=reprisal,
    )


async def store(session: AsyncSession, rules: DeadlineRules) -> None:
    value = json.dumps(
        {
            "ack_days": rules.ack_days,
            "reprisal_ack_days": rules.reprisal_ack_days,
            "feedback_months": rules.feedback_months,
            "clock": rules.clock,
            "holidays": sorted(day.isoformat() for day in rules.holidays),
        }
    )
    existing = await session.get(Setting, KEY)
    if existing is None:
        session.add(Setting(key=KEY, value=value))
    else:
        existing.value = value
        session.add(existing)
