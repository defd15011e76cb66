"""Audit checkpoints: the chain's head, signed, in a text that outside copies keep.

A checkpoint says "after ``count`` events, the last link of the audit chain was ``head``, at
``time``, chained with the MAC key ``key``", signed with the server's audit signing key
(Ed25519, purpose ``audit-checkpoint``). It names no case, no person and nothing anyone wrote.
Its text is what the witness file holds and what witnesses are mailed; :func:`parse` reads it
back from either, or from an email pasted with its quoting (``> ``) and wrapped lines.

Whoever later rewrites the log, even with the server's secrets, cannot change a copy kept
elsewhere: ``quietline audit verify`` holds the log against every copy it is given.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import os
import re
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import crypto

logger = logging.getLogger("quietline.audit")

PURPOSE = "audit-checkpoint"
BEGIN = "-----BEGIN QUIETLINE AUDIT CHECKPOINT-----"
END = "-----END QUIETLINE AUDIT CHECKPOINT-----"
_SIGNED_PREFIX = "quietline-audit-checkpoint/v1"
_HEAD = re.compile(r"[0-9a-f]{64}")
_KEY_ID = re.compile(r"[0-9a-f]{16}")
_QUOTING = re.compile(r"^(\s*>)+")
_SIGNATURE_LINE = 43  # characters of the signature per line, so no line passes 78


@dataclass(frozen=True)
class Checkpoint:
    """A signed head of the audit chain; ``source`` says where this copy was read."""

    count: int
    head: str
    at: datetime
    key_id: str
    signature: bytes
    source: str = ""

    @property
    def time_text(self) -> str:
        return format_time(self.at)

    def signed_bytes(self) -> bytes:
        return signed_bytes(self.count, self.head, self.at, self.key_id)

    def text(self) -> str:
        """The block witnesses keep, lines of at most 78 characters."""
        encoded = base64.urlsafe_b64encode(self.signature).decode().rstrip("=")
        halves = [encoded[i : i + _SIGNATURE_LINE] for i in range(0, len(encoded), _SIGNATURE_LINE)]
        return (
            f"{BEGIN}\n"
            f"count: {self.count}\n"
            f"head: {self.head}\n"
            f"time: {self.time_text}\n"
            f"key: {self.key_id}\n"
            f"signature: {halves[0]}\n" + "".join(f"  {half}\n" for half in halves[1:]) + f"{END}\n"
        )

    def signature_holds(self, public: bytes) -> bool:
        try:
            crypto.verify(public, self.signed_bytes(), self.signature, purpose=PURPOSE)
        except crypto.SignatureError:
            return False
        return True


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def signed_bytes(count: int, head: str, at: datetime, key_id: str) -> bytes:
    return (
        f"{_SIGNED_PREFIX}\ncount={count}\nhead={head}\ntime={format_time(at)}\nkey={key_id}"
    ).encode("ascii")


def make(signing_key: bytes, *, count: int, head: str, at: datetime, key_id: str) -> Checkpoint:
    """Sign the chain's head; the time is kept to the second."""
    at = at.astimezone(UTC).replace(microsecond=0)
    signature = crypto.sign(signing_key, signed_bytes(count, head, at, key_id), purpose=PURPOSE)
    return Checkpoint(count=count, head=head, at=at, key_id=key_id, signature=signature)


@dataclass(frozen=True)
class Unreadable:
    """A checkpoint block that could not be read (cut short, or altered beyond parsing)."""

    source: str
    number: int  # the block's place in its source, from 1


def parse(text: str, source: str) -> tuple[list[Checkpoint], list[Unreadable]]:
    """Every checkpoint block in ``text`` (a witness file, or emails pasted one after another)."""
    found: list[Checkpoint] = []
    unreadable: list[Unreadable] = []
    for number, block in enumerate(_blocks(text), start=1):
        checkpoint = _read_block(block, source)
        if checkpoint is None:
            unreadable.append(Unreadable(source, number))
        else:
            found.append(checkpoint)
    return found, unreadable


def _blocks(text: str) -> Iterator[list[str]]:
    block: list[str] | None = None
    for raw in text.splitlines():
        line = _QUOTING.sub("", raw).strip()  # a quoted email: "> > count: 3"
        if line == BEGIN:
            if block is not None:
                yield block  # a block cut short: unreadable
            block = []
        elif line == END and block is not None:
            yield block
            block = None
        elif block is not None and line:
            block.append(line)
    if block is not None:
        yield block


def _read_block(lines: list[str], source: str) -> Checkpoint | None:
    fields: dict[str, str] = {}
    last = ""
    for line in lines:
        name, colon, value = line.partition(":")
        if colon and name.strip() in {"count", "head", "time", "key", "signature"}:
            last = name.strip()
            fields[last] = value.strip()
        elif last:
            fields[last] += line.strip()  # a wrapped line continues the field before it
    try:
        count = int(fields["count"])
        head, key_id = fields["head"], fields["key"]
        at = datetime.fromisoformat(fields["time"])
        encoded = fields["signature"].replace(" ", "")
        signature = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (KeyError, ValueError, binascii.Error):
        return None
    if count < 0 or not _HEAD.fullmatch(head) or not _KEY_ID.fullmatch(key_id) or not at.tzinfo:
        return None
    return Checkpoint(count, head, at.astimezone(UTC), key_id, signature, source)


def read_file(path: Path, source: str | None = None) -> tuple[list[Checkpoint], list[Unreadable]]:
    """The checkpoints of a witness file or of a file of pasted emails (none if it is absent)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return [], []
    return parse(text, source or str(path))


def append(path: Path, checkpoints: Iterable[Checkpoint]) -> bool:
    """Append to the witness file and sync it to disk; False (logged, never raised) on failure.

    One ``write`` with ``O_APPEND``, so several processes appending at once never interleave
    their blocks. A failure leaves the action that was checkpointed committed: the checkpoint
    is still in the database, and the next one covers it.
    """
    data = "".join(checkpoint.text() for checkpoint in checkpoints).encode("ascii")
    if not data:
        return True
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            written = 0
            while written < len(data):
                written += os.write(descriptor, data[written:])
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    except OSError as exc:
        logger.error("the audit witness file could not be written: %s", type(exc).__name__)
        return False
    return True


# One writer thread per process: appends leave in the order they were handed over, and the
# request that caused a checkpoint does not wait for the disk.
_writer_lock = threading.Lock()
_writer: ThreadPoolExecutor | None = None
_last_write: Future[bool] | None = None


def append_later(path: Path, checkpoints: Iterable[Checkpoint]) -> None:
    """Hand checkpoints to the writer thread, which appends and syncs them (:func:`append`)."""
    global _writer, _last_write
    batch = list(checkpoints)
    if not batch:
        return
    with _writer_lock:
        if _writer is None:
            _writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="quietline-witness")
        _last_write = _writer.submit(append, path, batch)


async def written() -> None:
    """Wait until every checkpoint handed to the writer so far is on disk (or has failed)."""
    with _writer_lock:
        last = _last_write
    if last is not None:
        await asyncio.wrap_future(last)
