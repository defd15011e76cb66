"""Encryption of what a person wrote (report, messages, notes, attachment names), bound to the
case and the field it belongs to, so a ciphertext copied to another case or field fails to open.

Format v1: ``0x01 || 12-byte nonce || ChaCha20-Poly1305(plaintext) || tag``; associated data
``0x01 || len || "quietline/field/v1" || len || case_id || len || field`` (lengths 4-byte
big-endian, strings UTF-8).
"""

from __future__ import annotations

from crypto import _aead
from crypto._encoding import require_key

__all__ = ["decrypt_field", "encrypt_field"]

_LABEL = "quietline/field/v1"


def encrypt_field(data_key: bytes, plaintext: bytes, *, case_id: str, field: str) -> bytes:
    """Encrypt one field of one case under the case's data key.

    ``field`` names the slot, e.g. ``"report"``, ``"message:<entry-id>"``, ``"note:<entry-id>"``,
    ``"attachment-name:<id>"``; include the entry id so entries cannot be swapped with each other.
    """
    require_key(data_key, "data_key")
    return _aead.encrypt(data_key, plaintext, label=_LABEL, case_id=case_id, field=field)


def decrypt_field(data_key: bytes, ciphertext: bytes, *, case_id: str, field: str) -> bytes:
    """Open a field encrypted by :func:`encrypt_field`; raises :class:`DecryptionError`."""
    require_key(data_key, "data_key")
    return _aead.decrypt(data_key, ciphertext, label=_LABEL, case_id=case_id, field=field)
