from __future__ import annotations


class Unreadable(ValueError):
    """The file is not a well-formed instance of the format it claims to be."""
