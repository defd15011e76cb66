"""Whole numbers as people type them: the ASCII digits 0-9 and nothing else.

``str.isdigit`` also says yes to superscripts ("²"), circled digits ("❶") and other scripts'
digits ("٣"): ``int`` refuses the first two, a crash where a clear refusal was meant, and reads
the last; ``hmac.compare_digest`` refuses to compare any text that is not ASCII.
"""

from __future__ import annotations


def is_digits(text: str) -> bool:
    """True when ``text`` is one or more of the digits 0-9 and nothing else."""
    return text.isascii() and text.isdigit()
