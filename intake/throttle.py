"""The global count of failed staff sign-ins, kept in process memory only."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from intake.errors import TooManyAttempts
from intake.i18n import N_


@dataclass
class LoginThrottle:
    """Failed sign-ins across every account in the last minute, in this process only.

    Never keyed by address (the service keeps none): past the limit, every
    sign-in waits a minute. Per-account lockout is stored on the Staff row.
    """

    per_minute: int
    failures: deque[float] = field(default_factory=deque)

    def _prune(self, now: float) -> None:
        while self.failures and now - self.failures[0] > 60:
            self.failures.popleft()

    def check(self) -> None:
        now = time.monotonic()
        self._prune(now)
        if len(self.failures) >= self.per_minute:
            raise TooManyAttempts(
                N_(
                    "Too many failed sign-ins on this service in the last minute. "
                    "Please try again in a minute."
                )
            )

    def note_failure(self) -> None:
        self.failures.append(time.monotonic())
