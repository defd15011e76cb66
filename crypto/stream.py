"""Streaming encryption of attachments in fixed-size chunks, with flat memory for any size.

This is the STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár, 2015): each file gets its
own subkey, and each chunk is sealed with a nonce that holds its position and whether it is the
last one. A chunk therefore opens only at its own place in its own file, and a stream cut short
at a chunk boundary fails because its last chunk is not flagged as last.

- header: ``0x02 || salt (16 random bytes)`` (:data:`HEADER_SIZE` bytes)
- subkey: HKDF-SHA256(ikm = the case's attachment key, salt = salt,
  info = ``0x01 || len || "quietline/stream/v2" || len || case_id || len || attachment_id``),
  where the attachment key is ``HKDF-SHA256(data key, info = "quietline/case-subkey/v2",
  "attachments")`` (:mod:`crypto._subkeys`), never the key that encrypts fields
- chunk *i*: ChaCha20-Poly1305(subkey, nonce = 7 zero bytes || i (u32, big-endian) || last
  (0 or 1), no associated data)
- every chunk but the last holds exactly :data:`CHUNK_SIZE` bytes of plaintext; the last holds
  0 to :data:`CHUNK_SIZE` bytes (an empty file is one empty, flagged chunk).

Format 1 (still read, no longer written) has the header ``0x01 || salt`` and derives the subkey
from the case data key itself, with the label ``"quietline/stream/v1"``.

The decryptor releases plaintext chunk by chunk, each authenticated, but only
:meth:`StreamDecryptor.finalize` proves the file is complete: treat the output as provisional
until it returns.

:class:`StreamChunkOpener` opens one chunk at a given position, for readers that must seek (a
PDF or ZIP parser). The caller says which chunk is the last, from the stream's length; a chunk
opened at the wrong position, or flagged wrongly, fails to open just as in sequential reading.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from cryptography.exceptions import AlreadyFinalized, InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crypto._encoding import VERSION_1, VERSION_2, encode_context, require_bytes, require_key
from crypto._subkeys import ATTACHMENTS, case_subkey
from crypto.errors import DecryptionError

__all__ = [
    "CHUNK_SIZE",
    "HEADER_SIZE",
    "SEALED_CHUNK_SIZE",
    "StreamChunkOpener",
    "StreamDecryptor",
    "StreamEncryptor",
]

CHUNK_SIZE = 65536
_TAG_BYTES = 16
SEALED_CHUNK_SIZE = CHUNK_SIZE + _TAG_BYTES
_SALT_BYTES = 16
HEADER_SIZE = 1 + _SALT_BYTES
_LABELS = {VERSION_1: "quietline/stream/v1", VERSION_2: "quietline/stream/v2"}
_MAX_CHUNKS = 2**32


def _random_salt() -> bytes:
    """The salt source; tests replace it to compute known-answer vectors."""
    return os.urandom(_SALT_BYTES)


def _feed(
    pending: bytearray, data: bytes, size: int, process: Callable[[bytearray], bytes]
) -> bytes:
    """Append ``data`` to ``pending`` without letting it grow beyond ``size`` bytes.

    A full buffer goes to ``process`` only once more data follows it, because until then it may
    be the last chunk. Returns what ``process`` returned, concatenated.
    """
    out = bytearray()
    view = memoryview(data)
    while view:
        if len(pending) == size:
            out += process(pending)
            pending.clear()
        take = size - len(pending)
        pending += view[:take]
        view = view[take:]
    return bytes(out)


class _ChunkCipher:
    """The per-file subkey and the chunk counter, shared by both directions."""

    def __init__(self, data_key: bytes, header: bytes, case_id: str, attachment_id: str) -> None:
        require_key(data_key, "data_key")
        version, salt = header[0], header[1:]
        ikm = case_subkey(data_key, ATTACHMENTS) if version == VERSION_2 else data_key
        info = encode_context(_LABELS[version], case_id=case_id, attachment_id=attachment_id)
        subkey = HKDF(SHA256(), 32, salt=salt, info=info).derive(ikm)
        self._aead = ChaCha20Poly1305(subkey)
        self._counter = 0

    def _next_nonce(self, last: bool) -> bytes:
        nonce = self._nonce_at(self._counter, last)
        self._counter += 1
        return nonce

    @staticmethod
    def _nonce_at(index: int, last: bool) -> bytes:
        if not 0 <= index < _MAX_CHUNKS:
            raise ValueError("the attachment has too many chunks")
        return bytes(7) + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")

    def open_at(self, index: int, sealed: bytes, *, last: bool) -> bytes:
        try:
            return self._aead.decrypt(self._nonce_at(index, last), sealed, None)
        except InvalidTag:
            raise DecryptionError() from None

    def seal(self, chunk: bytes | bytearray, *, last: bool) -> bytes:
        return self._aead.encrypt(self._next_nonce(last), bytes(chunk), None)

    def open(self, sealed: bytes | bytearray, *, last: bool) -> bytes:
        try:
            return self._aead.decrypt(self._next_nonce(last), bytes(sealed), None)
        except InvalidTag:
            raise DecryptionError() from None


class StreamEncryptor:
    """Encrypts one attachment: write :attr:`header`, then what :meth:`update` and
    :meth:`finalize` return, in order."""

    def __init__(self, data_key: bytes, *, case_id: str, attachment_id: str) -> None:
        self._header = bytes([VERSION_2]) + _random_salt()
        self._cipher = _ChunkCipher(data_key, self._header, case_id, attachment_id)
        self._pending = bytearray()
        self._finalized = False

    @property
    def header(self) -> bytes:
        return self._header

    def update(self, data: bytes) -> bytes:
        """Sealed chunks (each :data:`SEALED_CHUNK_SIZE` bytes) completed by ``data``; maybe b""."""
        if self._finalized:
            raise AlreadyFinalized("Context was already finalized.")
        require_bytes(data, "data")
        return _feed(self._pending, data, CHUNK_SIZE, self._seal_full_chunk)

    def _seal_full_chunk(self, chunk: bytearray) -> bytes:
        return self._cipher.seal(chunk, last=False)

    def finalize(self) -> bytes:
        """The last sealed chunk, flagged as last (``16`` to :data:`SEALED_CHUNK_SIZE` bytes)."""
        if self._finalized:
            raise AlreadyFinalized("Context was already finalized.")
        self._finalized = True
        last = self._cipher.seal(self._pending, last=True)
        self._pending.clear()
        return last


class StreamDecryptor:
    """Decrypts one attachment from its header and its sealed chunks, sliced in any way.

    After a :class:`DecryptionError` the decryptor refuses further use.
    """

    def __init__(self, data_key: bytes, header: bytes, *, case_id: str, attachment_id: str) -> None:
        require_bytes(header, "header")
        require_key(data_key, "data_key")
        if len(header) != HEADER_SIZE or header[0] not in _LABELS:
            raise DecryptionError()
        self._cipher = _ChunkCipher(data_key, header, case_id, attachment_id)
        self._pending = bytearray()
        self._done = False

    def update(self, data: bytes) -> bytes:
        """Plaintext of the chunks ``data`` completes, except the one held back; maybe b""."""
        self._check_usable()
        require_bytes(data, "data")
        try:
            return _feed(self._pending, data, SEALED_CHUNK_SIZE, self._open_full_chunk)
        except DecryptionError:
            self._done = True
            self._pending.clear()
            raise

    def _open_full_chunk(self, sealed: bytearray) -> bytes:
        return self._cipher.open(sealed, last=False)

    def finalize(self) -> bytes:
        """Plaintext of the last chunk; raises :class:`DecryptionError` if the stream is
        incomplete or its last chunk is not where the stream ends."""
        self._check_usable()
        self._done = True
        pending, self._pending = self._pending, bytearray()
        if len(pending) < _TAG_BYTES:
            raise DecryptionError()
        return self._cipher.open(pending, last=True)

    def _check_usable(self) -> None:
        if self._done:
            raise AlreadyFinalized("Context was already finalized or failed.")


class StreamChunkOpener:
    """Opens any single chunk of one attachment, given its position and whether it is the last.

    Chunk ``i`` of a stream is found at byte ``HEADER_SIZE + i * SEALED_CHUNK_SIZE`` of the
    stored blob; the last chunk is the one that ends the blob.
    """

    def __init__(self, data_key: bytes, header: bytes, *, case_id: str, attachment_id: str) -> None:
        require_bytes(header, "header")
        require_key(data_key, "data_key")
        if len(header) != HEADER_SIZE or header[0] not in _LABELS:
            raise DecryptionError()
        self._cipher = _ChunkCipher(data_key, header, case_id, attachment_id)

    def open(self, index: int, sealed: bytes, *, last: bool) -> bytes:
        """The plaintext of chunk ``index``; raises :class:`DecryptionError` if it does not open
        there (moved, altered, or flagged last when it is not, or the reverse)."""
        require_bytes(sealed, "sealed")
        if len(sealed) > SEALED_CHUNK_SIZE or (not last and len(sealed) != SEALED_CHUNK_SIZE):
            raise DecryptionError()
        return self._cipher.open_at(index, sealed, last=last)
