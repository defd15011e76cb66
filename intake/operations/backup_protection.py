"""How a backup archive is protected: age encryption (the ``pyrage`` package), or nothing.

A backup holds the token pepper and the session signing key beside the database, so it is
encrypted unless the operator asks for a plain archive (``--plain``). It is an ordinary age file
(age-encryption.org/v1), so the standard ``age`` tool opens it too:

- to one or more X25519 recipients (``age1...`` public keys): the archive streams through the
  encryption, so memory stays flat whatever its size; only the holder of a matching identity
  (``AGE-SECRET-KEY-1...``, kept off the server) can read it. This is the form for scheduled
  backups: the server needs only the public key.
- with a passphrase (age's scrypt recipient, about 3 s of work to try each guess): pyrage offers
  it only on whole byte strings, so the archive is held in memory (twice, briefly), and one
  larger than :data:`PASSPHRASE_MAX_BYTES` is refused.

Nothing here logs or prints a key or a passphrase; an error names a file and a line number,
never the line.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal

import pyrage
from pyrage import passphrase as age_passphrase
from pyrage import x25519

AGE_MAGIC = b"age-encryption.org/v1\n"
ARMOR_MAGIC = b"-----BEGIN AGE ENCRYPTED FILE-----"
PUBLIC_PREFIX = "age1"
MIN_PASSPHRASE_CHARS = 12
PASSPHRASE_MAX_BYTES = 2 * 1024**3
# Enough of an age header to see its recipient stanzas.
HEADER_BYTES = 64 * 1024

Kind = Literal["plain", "recipients", "passphrase"]
WritePlain = Callable[[IO[bytes]], None]


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass(frozen=True)
class Protection:
    """What a backup is encrypted to: recipients, a passphrase, or neither (a plain archive)."""

    recipients: tuple[x25519.Recipient, ...] = ()
    passphrase: str | None = field(default=None, repr=False)

    @property
    def kind(self) -> Kind:
        if self.recipients:
            return "recipients"
        return "passphrase" if self.passphrase is not None else "plain"

    def describe(self) -> str:
        if self.recipients:
            count = len(self.recipients)
            return f"encrypted with age to {count} recipient{'s' if count != 1 else ''}"
        if self.passphrase is not None:
            return "encrypted with age under the passphrase"
        return "NOT encrypted"


def parse_recipient(text: str, where: str) -> x25519.Recipient:
    try:
        return x25519.Recipient.from_str(text)
    except pyrage.RecipientError as error:
        raise BackupError(f"{where} is not an age public key (age1...): {error}") from None


def _key_lines(path: Path) -> list[tuple[int, str]]:
    """The numbered lines of a key file that are neither blank nor comments."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BackupError(f"cannot read {path}: {error}") from None
    lines = [(number, line.strip()) for number, line in enumerate(text.splitlines(), 1)]
    return [(number, line) for number, line in lines if line and not line.startswith("#")]


def recipients_from(values: Sequence[str]) -> tuple[x25519.Recipient, ...]:
    """Recipients from ``--to`` values or the setting: each an ``age1...`` public key, or a file
    of them (one a line; blank lines and ``#`` comments allowed), as ``age -R`` reads."""
    found: list[x25519.Recipient] = []
    for value in values:
        value = value.strip()
        if value.startswith(PUBLIC_PREFIX):
            found.append(parse_recipient(value, value))
            continue
        path = Path(value).expanduser()
        if not path.is_file():
            raise BackupError(
                f"--to takes an age public key (age1...) or a file of them; {value!r} is neither"
            )
        lines = _key_lines(path)
        if not lines:
            raise BackupError(f"{path} holds no age public key (a line age1...)")
        found += [parse_recipient(line, f"line {number} of {path}") for number, line in lines]
    return tuple(found)


def identities_from(paths: Sequence[str]) -> list[x25519.Identity]:
    """Identities from age identity files (``AGE-SECRET-KEY-1...`` lines, as ``age-keygen``
    writes them). A bad line is named by its number only: it may hold a secret."""
    found: list[x25519.Identity] = []
    for value in paths:
        path = Path(value).expanduser()
        if not path.is_file():
            raise BackupError(f"there is no age identity file at {path}")
        lines = _key_lines(path)
        if not lines:
            raise BackupError(f"{path} holds no age identity (a line AGE-SECRET-KEY-1...)")
        for number, line in lines:
            try:
                found.append(x25519.Identity.from_str(line))
            except pyrage.IdentityError:
                raise BackupError(
                    f"line {number} of {path} is not an age identity (AGE-SECRET-KEY-1...)"
                ) from None
    return found


def choose(
    *,
    to: Sequence[str],
    configured: Sequence[str],
    passphrase: str | None,
    plain: bool,
) -> Protection:
    """The protection a ``backup`` asked for: ``--to`` (or, without it, the configured
    recipients), a passphrase, or ``--plain``; exactly one of them."""
    recipients = recipients_from(to or configured)
    chosen = [bool(recipients), passphrase is not None, plain]
    if sum(chosen) == 0:
        raise BackupError(
            "say how to protect the backup: --to age1... (an age public key, or a file of "
            "them; or set QUIETLINE_BACKUP_RECIPIENTS), or --passphrase-stdin; --plain writes "
            "it unencrypted"
        )
    if sum(chosen) > 1:
        if plain:
            raise BackupError("--plain cannot be combined with recipients or a passphrase")
        raise BackupError("age encrypts to recipients or to a passphrase, not both: pick one")
    if passphrase is not None and len(passphrase) < MIN_PASSPHRASE_CHARS:
        raise BackupError(
            f"the passphrase must be at least {MIN_PASSPHRASE_CHARS} characters (a long "
            "random one, kept apart from the backups)"
        )
    return Protection(recipients=recipients, passphrase=passphrase)


def write_protected(out: IO[bytes], protection: Protection, write_plain: WritePlain) -> None:
    """Write what ``write_plain`` produces into ``out``, encrypted as ``protection`` says."""
    if protection.kind == "plain":
        write_plain(out)
        return
    if protection.passphrase is not None:
        buffer = _LimitedBuffer(PASSPHRASE_MAX_BYTES)
        write_plain(buffer)
        out.write(age_passphrase.encrypt(buffer.getvalue(), protection.passphrase))
        return
    _encrypt_streaming(out, list(protection.recipients), write_plain)


class _LimitedBuffer(io.BytesIO):
    """An in-memory file that refuses to grow past ``limit`` bytes."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def write(self, data: bytes) -> int:  # type: ignore[override]
        if self.tell() + len(data) > self.limit:
            raise BackupError(
                f"this backup is larger than {self.limit // 1024**3} GiB, too large to encrypt "
                "with a passphrase (it is done in memory): encrypt it to an age public key "
                "with --to instead"
            )
        return super().write(data)


def _encrypt_streaming(
    out: IO[bytes], recipients: list[x25519.Recipient], write_plain: WritePlain
) -> None:
    """age-encrypt as ``write_plain`` writes, through a pipe: neither side holds the archive."""
    read_end, write_end = os.pipe()
    failures: list[BaseException] = []

    def produce() -> None:
        try:
            with os.fdopen(write_end, "wb") as pipe:
                write_plain(pipe)
        except BaseException as error:  # noqa: BLE001 - handed to the caller below
            failures.append(error)

    producer = threading.Thread(target=produce, name="backup-archive", daemon=True)
    producer.start()
    try:
        with os.fdopen(read_end, "rb") as pipe:
            pyrage.encrypt_io(pipe, out, recipients)
    except pyrage.EncryptError as error:
        raise BackupError(f"the age encryption failed: {error}") from None
    finally:
        producer.join()
    if failures:
        failure = failures[0]
        if isinstance(failure, BrokenPipeError):
            raise BackupError("the age encryption stopped before the archive was written")
        raise failure


def kind_of(path: Path) -> Kind:
    """Whether the file at ``path`` is a plain archive or an age file, and of which kind."""
    with path.open("rb") as handle:
        head = handle.read(HEADER_BYTES)
    if head.startswith(ARMOR_MAGIC):
        return "recipients"  # armored: decrypted the same way; the stanzas are inside the armor
    if not head.startswith(AGE_MAGIC):
        return "plain"
    header = head.split(b"\n---", 1)[0]
    stanzas = [line for line in header.split(b"\n") if line.startswith(b"-> ")]
    if any(line.startswith(b"-> scrypt ") for line in stanzas):
        return "passphrase"
    return "recipients"


def decrypt_file(
    source: Path,
    target: IO[bytes],
    *,
    identities: Sequence[x25519.Identity] = (),
    passphrase: str | None = None,
) -> None:
    """Decrypt the age file ``source`` into ``target``; BackupError (a sentence) when the key
    does not open it or the file is damaged. Authentication covers the whole file: a caller
    must use ``target`` only once this returns."""
    kind = kind_of(source)
    if kind == "passphrase":
        if passphrase is None:
            raise BackupError(
                "this backup is encrypted with a passphrase: give it with --passphrase-stdin"
            )
        try:
            target.write(age_passphrase.decrypt(source.read_bytes(), passphrase))
        except pyrage.DecryptError:
            raise BackupError(
                "the passphrase does not open this backup (or the file is damaged); "
                "nothing was changed"
            ) from None
        return
    if not identities:
        raise BackupError(
            "this backup is encrypted to an age public key: give the matching identity file "
            "with --identity FILE (AGE-SECRET-KEY-1...)"
        )
    try:
        with source.open("rb") as handle:
            pyrage.decrypt_io(handle, target, list(identities))
    except pyrage.DecryptError as error:
        if "no matching keys" in str(error).lower():
            raise BackupError(
                "none of the identities given opens this backup: it was encrypted to another "
                "age public key; nothing was changed"
            ) from None
        raise BackupError(f"this backup could not be decrypted ({error}); it is damaged") from None
    except OSError as error:  # pyrage reports a damaged or truncated payload as an I/O error
        raise BackupError(
            f"this backup could not be decrypted ({error}): the file is damaged or cut short "
            "(or the disk is full); nothing was changed"
        ) from None
