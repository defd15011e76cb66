"""A value each process reads from the database and keeps for a few seconds, one per runtime.

Some settings are read on every request (the organisation's identity, the current questionnaire
versions) and change rarely: each process keeps what it read for a few seconds, so a change made
in one process shows in the others within that time. Kept per runtime (tests open several in one
process), and never past the runtime's life.
"""

from __future__ import annotations

import time
import weakref
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from intake.runtime import Runtime

Value = TypeVar("Value")


class PerRuntime(Generic[Value]):
    """What this process last read, per runtime, with the time it was read."""

    def __init__(self, fresh_for: float) -> None:
        self.fresh_for = fresh_for
        # Runtime is not hashable (a mutable dataclass): its id, checked against a weak
        # reference so that a new runtime at a reused address never sees an old value.
        self._read: dict[int, tuple[weakref.ref[Runtime], float, Value]] = {}

    def remember(self, runtime: Runtime, value: Value) -> None:
        self._read[id(runtime)] = (weakref.ref(runtime), time.monotonic(), value)

    def last(self, runtime: Runtime) -> Value | None:
        """What this process last read, however old (None if nothing yet)."""
        found = self._read.get(id(runtime))
        if found is None or found[0]() is not runtime:
            return None
        return found[2]

    def fresh(self, runtime: Runtime) -> Value | None:
        """What this process read less than ``fresh_for`` seconds ago (None otherwise)."""
        found = self._read.get(id(runtime))
        if found is None or found[0]() is not runtime:
            return None
        return found[2] if time.monotonic() - found[1] < self.fresh_for else None

    def forget(self) -> None:
        """Read again next time (after this process changed the value)."""
        self._read.clear()
