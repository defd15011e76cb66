"""A confidential reporter's identity, sealed so that it takes two halves, held by two different
people, to open it.

The identity is encrypted under a fresh key derived from two random halves:

- identity key = HKDF-SHA256(ikm = officers' half || custodians' half, salt = none,
  info = ``0x01 || len || "quietline/identity-key/v1" || len || case_id``)
- blob (format v1) = ``0x01 || 12-byte nonce || ChaCha20-Poly1305(identity) || tag`` with the
  associated data ``0x01 || len || "quietline/identity/v1" || len || case_id``
  (:mod:`crypto._aead`).

The caller keeps the officers' half where the case's holders can open it (encrypted under the
case key) and seals the custodians' half to each identity custodian (:mod:`crypto.sealing`);
neither half alone says anything about the key. A new identity for the same case gets new halves.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crypto import _aead
from crypto._encoding import KEY_BYTES, encode_context, require_bytes, require_key

__all__ = ["IDENTITY_HALF_BYTES", "SealedIdentity", "open_identity", "seal_identity"]

IDENTITY_HALF_BYTES = KEY_BYTES
_KEY_LABEL = "quietline/identity-key/v1"
_BLOB_LABEL = "quietline/identity/v1"


def _random_half() -> bytes:
    """The source of each half; tests replace it to compute known-answer vectors."""
    return secrets.token_bytes(IDENTITY_HALF_BYTES)


@dataclass(frozen=True, repr=False)
class SealedIdentity:
    """An identity sealed under two halves; ``repr`` shows neither half."""

    sealed: bytes
    officers_half: bytes
    custodians_half: bytes

    def __repr__(self) -> str:
        return f"SealedIdentity(sealed=<{len(self.sealed)} bytes>, halves=<redacted>)"


def _identity_key(officers_half: bytes, custodians_half: bytes, case_id: str) -> bytes:
    require_key(officers_half, "officers_half")
    require_key(custodians_half, "custodians_half")
    info = encode_context(_KEY_LABEL, case_id=case_id)
    return HKDF(SHA256(), KEY_BYTES, salt=None, info=info).derive(officers_half + custodians_half)


def seal_identity(identity: bytes, *, case_id: str) -> SealedIdentity:
    """Encrypt ``identity`` under a key made from two fresh random halves, bound to the case."""
    require_bytes(identity, "identity")
    officers_half, custodians_half = _random_half(), _random_half()
    key = _identity_key(officers_half, custodians_half, case_id)
    return SealedIdentity(
        sealed=_aead.encrypt(key, identity, label=_BLOB_LABEL, case_id=case_id),
        officers_half=officers_half,
        custodians_half=custodians_half,
    )


def open_identity(
    sealed: bytes, *, officers_half: bytes, custodians_half: bytes, case_id: str
) -> bytes:
    """Open a blob made by :func:`seal_identity`; both halves are needed. Raises
    :class:`~crypto.errors.DecryptionError` on any failure."""
    key = _identity_key(officers_half, custodians_half, case_id)
    return _aead.decrypt(key, sealed, label=_BLOB_LABEL, case_id=case_id)
