"""Where an upload waits between arriving and being stored: encrypted temporary files.

Nothing of an upload ever touches disk in the clear. As a file part arrives it is encrypted
(STREAM, :mod:`crypto.stream`) under the key of the case it will belong to, or a random key that
lives only in memory when that case is not known yet (see :class:`StagedFile`), into an unnamed
temporary file in the data directory's ``staging/`` folder (``O_TMPFILE`` where the system has
it: the file has no name and vanishes when closed or when the process dies). Cleaning then reads
it back through :class:`DecryptingReader`, a seekable file object that decrypts one 64 KiB chunk
at a time, and writes the result, encrypted under the case data key, into a :class:`SealedFile`,
another unnamed temporary file whose ciphertext is copied into the database when the report or
message is committed. Memory use stays a few chunks, whatever the size of the file.
"""

from __future__ import annotations

import io
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import crypto
from crypto import CHUNK_SIZE, SEALED_CHUNK_SIZE

STAGING_FOLDER = "staging"
_STAGING_CASE = "staging"


def staging_directory(data_dir: Path) -> Path:
    directory = data_dir / STAGING_FOLDER
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return directory


def _unnamed_file(directory: Path) -> IO[bytes]:
    return tempfile.TemporaryFile(dir=directory)  # noqa: SIM115 - closed by its owner


def chunk_count(size: int) -> int:
    """How many STREAM chunks hold ``size`` bytes of plaintext (an empty file has one)."""
    return max(1, -(-size // CHUNK_SIZE))


@dataclass(frozen=True)
class CaseKey:
    """The data key and id of a case about to be created, known before its files arrive."""

    data_key: bytes = field(repr=False)
    case_id: str


class StagedFile:
    """One uploaded file as it arrived, encrypted as it streamed in.

    Encrypted under the data key of the case it will belong to when that is known in advance
    (a new report): a file that needs no cleaning is then stored as staged, with no second
    pass. Otherwise (a message, whose case is found by its token only once the body is read)
    under a random key that exists only in this object.
    """

    HEAD_BYTES = 4096

    def __init__(
        self,
        directory: Path,
        *,
        filename: str,
        declared_type: str,
        case_key: CaseKey | None = None,
    ) -> None:
        self.filename = filename
        self.declared_type = declared_type
        self.size = 0
        self.head = b""  # the first bytes, kept in memory to recognise the format
        self.case_key = case_key
        self._key = case_key.data_key if case_key else crypto.new_data_key()
        self._case_id = case_key.case_id if case_key else _STAGING_CASE
        self._id = secrets.token_hex(16)
        self._file = _unnamed_file(directory)
        self._encryptor = crypto.StreamEncryptor(
            self._key, case_id=self._case_id, attachment_id=self._id
        )
        self._header = self._encryptor.header
        self._finished = False

    def write(self, data: bytes) -> None:
        if len(self.head) < self.HEAD_BYTES:
            self.head += data[: self.HEAD_BYTES - len(self.head)]
        self.size += len(data)
        sealed = self._encryptor.update(data)
        if sealed:
            self._file.write(sealed)

    def finish(self) -> None:
        if not self._finished:
            self._file.write(self._encryptor.finalize())
            self._file.flush()
            self._finished = True

    def reader(self) -> io.BufferedReader:
        """A seekable, buffered reader of the plaintext (call :meth:`finish` first)."""
        if not self._finished:
            raise RuntimeError("the staged file is not finished")
        opener = crypto.StreamChunkOpener(
            self._key, self._header, case_id=self._case_id, attachment_id=self._id
        )
        return io.BufferedReader(DecryptingReader(self._file, opener, self.size), CHUNK_SIZE)

    def chunks(self) -> Iterator[bytes]:
        """The plaintext, chunk by chunk, in order (faster than :meth:`reader` for copying)."""
        if not self._finished:
            raise RuntimeError("the staged file is not finished")
        opener = crypto.StreamChunkOpener(
            self._key, self._header, case_id=self._case_id, attachment_id=self._id
        )
        count = chunk_count(self.size)
        self._file.seek(0)
        for index in range(count):
            yield opener.open(index, self._file.read(SEALED_CHUNK_SIZE), last=index == count - 1)

    @property
    def attachment_id(self) -> str:
        return self._id

    def is_sealed_for(self, data_key: bytes, case_id: str) -> bool:
        """Whether the staged ciphertext is already the case's own (see :class:`CaseKey`)."""
        return (
            self.case_key is not None
            and self.case_key.case_id == case_id
            and secrets.compare_digest(self.case_key.data_key, data_key)
        )

    def as_sealed(self) -> SealedFile:
        """This file as a :class:`SealedFile` for its case, with no copy (it shares the file)."""
        if self.case_key is None or not self._finished:
            raise RuntimeError("the staged file is not sealed for a case")
        return SealedFile._adopt(self._file, self._header, self.size, self._id)

    def close(self) -> None:
        self._file.close()


class DecryptingReader(io.RawIOBase):
    """Random-access plaintext of a file holding a STREAM ciphertext's sealed chunks (its
    header is kept apart, in memory or in the database)."""

    def __init__(self, sealed: IO[bytes], opener: crypto.StreamChunkOpener, size: int) -> None:
        super().__init__()
        self._sealed = sealed
        self._opener = opener
        self._size = size
        self._chunks = chunk_count(size)
        self._position = 0
        self._cached_index = -1
        self._cached = b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            position = offset
        elif whence == io.SEEK_CUR:
            position = self._position + offset
        elif whence == io.SEEK_END:
            position = self._size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if position < 0:
            raise OSError("negative seek position")
        self._position = position
        return position

    def _chunk(self, index: int) -> bytes:
        if index != self._cached_index:
            last = index == self._chunks - 1
            self._sealed.seek(index * SEALED_CHUNK_SIZE)
            sealed = self._sealed.read(SEALED_CHUNK_SIZE)
            self._cached = self._opener.open(index, sealed, last=last)
            self._cached_index = index
        return self._cached

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        if self._position >= self._size:
            return 0
        index, offset = divmod(self._position, CHUNK_SIZE)
        chunk = self._chunk(index)
        count = min(len(buffer), len(chunk) - offset)
        buffer[:count] = chunk[offset : offset + count]
        self._position += count
        return count


class SealedFile:
    """A file encrypted under its case's data key, waiting to be copied into the database."""

    def __init__(self, directory: Path, data_key: bytes, *, case_id: str, attachment_id: str):
        self.attachment_id = attachment_id
        self.size = 0
        self._file = _unnamed_file(directory)
        self._encryptor = crypto.StreamEncryptor(
            data_key, case_id=case_id, attachment_id=attachment_id
        )
        self.header = self._encryptor.header
        self._finished = False

    @classmethod
    def _adopt(cls, file: IO[bytes], header: bytes, size: int, attachment_id: str) -> SealedFile:
        sealed = cls.__new__(cls)
        sealed.attachment_id = attachment_id
        sealed.size = size
        sealed._file = file
        sealed.header = header
        sealed._finished = True
        return sealed

    def write(self, data: bytes) -> int:
        if self._finished:
            raise RuntimeError("the sealed file is finished")
        self.size += len(data)
        sealed = self._encryptor.update(data if isinstance(data, bytes) else bytes(data))
        if sealed:
            self._file.write(sealed)
        return len(data)

    def finish(self) -> None:
        if not self._finished:
            self._file.write(self._encryptor.finalize())
            self._file.flush()
            self._finished = True

    def stored_size(self) -> int:
        """The bytes the database will hold for this file: its header and its ciphertext."""
        return len(self.header) + self._file.seek(0, io.SEEK_END)

    def pieces(self, size: int) -> list[tuple[int, int]]:
        """(offset, length) of consecutive runs of at most ``size`` ciphertext bytes."""
        total = self._file.seek(0, io.SEEK_END)
        return [(start, min(size, total - start)) for start in range(0, total, size)]

    def read_piece(self, offset: int, length: int) -> bytes:
        self._file.seek(offset)
        return self._file.read(length)

    def close(self) -> None:
        self._file.close()
