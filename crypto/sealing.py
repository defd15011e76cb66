"""Sealing a secret to an X25519 public key with HPKE (RFC 9180, base mode).

Suite: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305. HPKE has no associated data
in this API, so the case and purpose are bound through HPKE's ``info``:
``0x01 || len || "quietline/seal/v1" || len || case_id || len || purpose``.

Format v1: ``0x01 || enc (32-byte ephemeral public key) || ciphertext || tag (16)``.
"""

from __future__ import annotations

import functools

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite

from crypto._encoding import VERSION_1, encode_context, require_bytes, require_key
from crypto.errors import DecryptionError

__all__ = ["seal", "unseal"]

_LABEL = "quietline/seal/v1"
_SUITE = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.CHACHA20_POLY1305)
_MIN_SIZE = 1 + KEM.X25519.enc_length() + 16


def seal(plaintext: bytes, recipient_public: bytes, *, case_id: str, purpose: str) -> bytes:
    """Encrypt ``plaintext`` so that only the holder of the matching private key can open it.

    Raises ValueError if ``recipient_public`` is not a usable X25519 public key (wrong length, or
    a low-order point such as all zeros).
    """
    require_bytes(plaintext, "plaintext")
    require_key(recipient_public, "recipient_public")
    info = encode_context(_LABEL, case_id=case_id, purpose=purpose)
    return bytes([VERSION_1]) + _SUITE.encrypt(plaintext, _public_key(recipient_public), info)


@functools.lru_cache(maxsize=256)
def _public_key(raw: bytes) -> X25519PublicKey:
    """Every report is sealed to the same few staff keys: each is parsed once."""
    return X25519PublicKey.from_public_bytes(raw)


def unseal(sealed: bytes, private: bytes, *, case_id: str, purpose: str) -> bytes:
    """Open a blob made by :func:`seal`; raises :class:`DecryptionError` on any failure."""
    require_bytes(sealed, "sealed")
    require_key(private, "private")
    info = encode_context(_LABEL, case_id=case_id, purpose=purpose)
    private_key = X25519PrivateKey.from_private_bytes(private)
    if len(sealed) < _MIN_SIZE or sealed[0] != VERSION_1:
        raise DecryptionError()
    try:
        return _SUITE.decrypt(sealed[1:], private_key, info)
    except (InvalidTag, ValueError):
        # ValueError: an ephemeral public key that yields no shared secret (low-order point).
        raise DecryptionError() from None
