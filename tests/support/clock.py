"""A clock tests can set: the machine's time shifted by an offset that only moves forward.

It runs with real time, so whatever measures durations keeps working; a test that needs a
later moment (a fresh sign-in code, an expired session) moves it instead of sleeping.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class SettableClock:
    """Satisfies ``intake.runtime.Clock``."""

    def __init__(self) -> None:
        self.offset = timedelta(0)
        # Every wait the service asked for, in seconds (the sign-in slowdown).
        self.waits: list[float] = []

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, by: timedelta) -> None:
        """Move the clock forward (never back: the service may have recorded later times)."""
        if by < timedelta(0):
            raise ValueError("a test clock only moves forward")
        self.offset += by

    async def sleep(self, seconds: float) -> None:
        """Record the wait and move the clock on by it, instead of waiting."""
        self.waits.append(seconds)
        self.advance(timedelta(seconds=seconds))
