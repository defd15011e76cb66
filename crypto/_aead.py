"""The AEAD blob shared by :mod:`crypto.fields`, :mod:`crypto.wrapping` and
:mod:`crypto.passwords`.

Layout: ``version || nonce (12 random bytes) || ChaCha20-Poly1305 ciphertext || tag (16)``, with
the associated data ``encode_context(label, **context)`` (whose own first byte is the context
encoding's version, 0x01). The version byte is the caller's: 0x01 everywhere, except fields of
format 2 (:mod:`crypto.fields`), whose key is derived from the case data key.

Random 96-bit nonces are safe here because each key encrypts few messages: a case data key
encrypts the fields of one case, a key-encryption key a handful of wraps.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from crypto._encoding import VERSION_1, encode_context, require_bytes
from crypto.errors import DecryptionError

NONCE_BYTES = 12
TAG_BYTES = 16
OVERHEAD = 1 + NONCE_BYTES + TAG_BYTES


def _random_nonce() -> bytes:
    """The nonce source; tests replace it to compute known-answer vectors."""
    return os.urandom(NONCE_BYTES)


def encrypt(
    key: bytes, plaintext: bytes, *, label: str, version: int = VERSION_1, **context: str
) -> bytes:
    """Seal ``plaintext`` under ``key`` (already checked by the caller) bound to the context."""
    require_bytes(plaintext, "plaintext")
    associated_data = encode_context(label, **context)
    nonce = _random_nonce()
    sealed = ChaCha20Poly1305(key).encrypt(nonce, plaintext, associated_data)
    return bytes([version]) + nonce + sealed


def decrypt(
    key: bytes, blob: bytes, *, label: str, version: int = VERSION_1, **context: str
) -> bytes:
    """Open a blob made by :func:`encrypt` with the same ``version``; every failure is a
    :class:`DecryptionError`."""
    require_bytes(blob, "ciphertext")
    associated_data = encode_context(label, **context)
    if len(blob) < OVERHEAD or blob[0] != version:
        raise DecryptionError()
    nonce = blob[1 : 1 + NONCE_BYTES]
    try:
        return ChaCha20Poly1305(key).decrypt(nonce, blob[1 + NONCE_BYTES :], associated_data)
    except InvalidTag:
        raise DecryptionError() from None
