"""Removing identifying metadata from the file formats reporters send most.

Each cleaner reads the original from a file object and writes a cleaned copy through ``write``;
it returns what it removed, and raises on anything it cannot parse (the caller then keeps the
file as uploaded and says so). Cleaners never hold a whole file in memory, except the PDF one,
which runs in a memory- and time-limited child process (:mod:`.isolated`) and only up to a size
limit. Formats are recognised in :mod:`.formats`.

This package imports nothing on its own, so the cleaning child process (:mod:`.child`) starts
without loading the rest of the service.
"""
