"""The cleaners' error, and the mark of the sentences they write for people.

Cleaning runs in a child process that imports this package alone, so the sentences a cleaner
returns (what it removed, why a file could not be read) are marked with :func:`N_`, an identity
function: the catalog collects them, and the page that shows them translates them.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Marks a sentence a person reads; returns it unchanged."""
    return message


class Unreadable(ValueError):
    """The file is not a well-formed instance of the format it claims to be."""
