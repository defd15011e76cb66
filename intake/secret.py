"""A secret setting's value, kept out of every ``repr``, ``str``, log line and traceback.

Code that needs the value asks for it by name (:meth:`Secret.reveal`), so a
reader can find every place a secret is used by searching for that word.
"""

from __future__ import annotations

import hmac
from typing import Any

MASK = "**********"


class Secret:
    """A string that prints as ``Secret('**********')``, whatever it holds."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        self._value = value

    def reveal(self) -> str:
        """The value itself: for the one call that needs it, never for a log or a message."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __reduce__(self) -> tuple[Any, ...]:
        # A settings object goes to the migration child process whole (intake/storage/db.py).
        return (Secret, (self._value,))
