"""Unexpected errors during reporters' requests, logged so that the log keeps no time of them.

A log line carries the moment it was written. Written at once, the line for an
error during a reporter's request would say when a reporter was using the
service (docs/architecture.md, promise 2). These are held instead, and written together
after a random delay of up to an hour from the first of them, as notification
emails are: one line naming each error's type and how often it happened, and
no path. Errors of staff requests are logged at once: staff actions are
audited with their time anyway.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import Counter

MAX_DELAY = 3600.0  # seconds

_random = secrets.SystemRandom()


class ReporterErrorLog:
    """Counts reporters' unexpected errors by type; logs the counts later, or at :meth:`flush`."""

    def __init__(self, logger: logging.Logger, *, max_delay: float = MAX_DELAY) -> None:
        self._logger = logger
        self._max_delay = max_delay
        self._counts: Counter[str] = Counter()
        self._timer: asyncio.TimerHandle | None = None

    def record(self, error_type: str) -> None:
        self._counts[error_type] += 1
        if self._timer is None:
            delay = _random.uniform(0, self._max_delay)
            self._timer = asyncio.get_running_loop().call_later(delay, self.flush)

    def flush(self) -> None:
        """Write what is held now (when the delay ends, and when the server stops)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._counts:
            return
        counts = ", ".join(f"{kind} x{count}" for kind, count in sorted(self._counts.items()))
        self._counts.clear()
        self._logger.error(
            "internal error during reporters' requests (written up to an hour later, without "
            "their time or page): %s",
            counts,
        )
