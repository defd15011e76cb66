"""Limits counted across requests: the rate limits and the global sign-in failure count.

Every limit is a named rate: ``per_minute`` events a minute, in bursts of up to
``per_minute`` (a minute's worth). :class:`Limits` is what the web layer and
sign-in use; :class:`LocalLimits` keeps the state in this process's memory,
which is right on SQLite (one process serves a SQLite database). On PostgreSQL,
where several processes share one database, ``intake.storage.limits`` keeps the
same state in the database so that every process draws on the same figures, and
``intake.runtime`` picks one or the other.

The state is a name and a time per limit: never an address, a token, an
account or anything else about a request, not even for a moment.

The arithmetic is the generic cell rate algorithm (GCRA): each limit keeps the
"theoretical arrival time" ``tat``; an event is allowed when, after it, ``tat``
would be at most a minute ahead of now, and then moves ``tat`` on by one
interval (60 / ``per_minute`` seconds). It is a token bucket written as one
number, which is what lets the database version be a single statement.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

BURST_SECONDS = 60.0  # a limit holds a minute's worth of events

# The names of the limits (the rate-limited route classes, and the sign-in failure count).
SUBMISSIONS = "submissions"
LOOKUPS = "lookups"
SIGNINS = "signins"
SIGN_IN_FAILURES = "signin-failures"


def interval(per_minute: int) -> float:
    """Seconds one event of a limit of ``per_minute`` takes up."""
    return 60.0 / per_minute


class Limits(Protocol):
    """Named rate limits, shared by every process that uses the same store."""

    async def take(self, name: str, per_minute: int) -> float:
        """Count one event; 0 if it was within the limit, else seconds until one would be.

        An event over the limit is not counted (the limit stays full, it does not grow)."""
        ...

    async def exhausted(self, name: str, per_minute: int) -> bool:
        """Whether the next event of this limit would be over it (counts nothing)."""
        ...


@dataclass
class LocalLimits:
    """The limits in this process's memory, on its monotonic clock."""

    tat: dict[str, float] = field(default_factory=dict)

    def _ahead(self, name: str, now: float) -> float:
        """How far ahead of now the limit's arrival time stands (0 when it has caught up)."""
        return max(self.tat.get(name, now), now) - now

    async def take(self, name: str, per_minute: int) -> float:
        now = time.monotonic()
        step = interval(per_minute)
        ahead = self._ahead(name, now) + step
        if ahead > BURST_SECONDS:
            return ahead - BURST_SECONDS
        self.tat[name] = now + ahead
        return 0.0

    async def exhausted(self, name: str, per_minute: int) -> bool:
        return self._ahead(name, time.monotonic()) + interval(per_minute) > BURST_SECONDS
