"""Running a cleaner that needs the whole document in a child process with hard limits.

qpdf (behind pikepdf) reads a PDF's object streams into memory, and a hostile PDF can make one
expand without bound or take unbounded time. So PDFs are cleaned in a separate Python process
that caps its own address space and CPU time before it reads anything, and is killed after a
wall-clock timeout. The document travels through pipes (never a file); the child writes a
length-prefixed JSON header (what it removed) and then the cleaned bytes. If it fails, runs out
of memory or time, or its output is cut short, the caller keeps the file as uploaded; when the
cleaner refused the document for a stated reason, that reason is passed on.
"""

from __future__ import annotations

import json
import subprocess  # nosec B404
import sys
import threading
from collections.abc import Callable
from typing import BinaryIO

from intake.attachments.cleaning.errors import N_, Unreadable

MEMORY_LIMIT = 1024 * 1024 * 1024  # bytes of address space for the child
CPU_SECONDS = 60
WALL_SECONDS = 120
_PIECE = 1024 * 1024


def clean_in_child(
    kind: str, source: BinaryIO, write: Callable[[bytes], object]
) -> tuple[str, ...]:
    """Clean ``source`` with the cleaner named ``kind`` in a limited child process."""
    # Our own module, fixed arguments, no shell (SECURITY.md, "Scanner findings").
    child = subprocess.Popen(  # noqa: S603  # nosec B603
        [sys.executable, "-m", "intake.attachments.cleaning.child", kind],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert child.stdin is not None and child.stdout is not None
    timer = threading.Timer(WALL_SECONDS, child.kill)
    timer.start()
    try:
        try:
            while piece := source.read(_PIECE):
                child.stdin.write(piece)
            child.stdin.close()
        except BrokenPipeError:
            raise Unreadable(N_("it could not be read")) from None
        length = int.from_bytes(child.stdout.read(4) or b"\0\0\0\0", "big")
        header = child.stdout.read(length) if length else b""
        while piece := child.stdout.read(_PIECE):
            write(piece)
        if child.wait() != 0 or not header:
            raise Unreadable(N_("it could not be read, or was too complex to clean"))
        answer = json.loads(header)
        if "unreadable" in answer:
            raise Unreadable(str(answer["unreadable"]))
        return tuple(str(item) for item in answer["removed"])
    finally:
        timer.cancel()
        if child.poll() is None:
            child.kill()
            child.wait()
