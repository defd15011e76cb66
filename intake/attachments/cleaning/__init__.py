"""Removing identifying metadata from the file formats reporters send most.

Each cleaner reads the original from a file object and writes a cleaned copy through ``write``;
it returns what it removed, and raises on anything it cannot parse (the caller then keeps the
file as uploaded and says so). Cleaners never hold a whole file in memory, except the PDF one,
which runs in a memory- and time-limited child process (:mod:`.isolated`) and only up to a size
limit.
"""

from __future__ import annotations

from intake.attachments.cleaning.formats import FORMATS, Format, detect

__all__ = ["FORMATS", "Format", "detect"]
