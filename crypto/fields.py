"""Encryption of what a person wrote (report, messages, notes, attachment names), bound to the
case and the field it belongs to, so a ciphertext copied to another case or field fails to open.

Format v2 (written): ``0x02 || 12-byte nonce || ChaCha20-Poly1305(plaintext) || tag`` under the
field key ``HKDF-SHA256(data key, info = "quietline/case-subkey/v2", "fields")``
(:mod:`crypto._subkeys`); associated data
``0x01 || len || "quietline/field/v2" || len || case_id || len || field`` (lengths 4-byte
big-endian, strings UTF-8).

Format v1 (still read, no longer written): the same layout with the first byte ``0x01``, the case
data key itself as the cipher key, and the label ``"quietline/field/v1"``.
"""

from __future__ import annotations

from crypto import _aead
from crypto._encoding import VERSION_1, VERSION_2, require_bytes, require_key
from crypto._subkeys import FIELDS, case_subkey
from crypto.errors import DecryptionError

__all__ = ["decrypt_field", "encrypt_field"]

_LABEL_V1 = "quietline/field/v1"
_LABEL_V2 = "quietline/field/v2"


def encrypt_field(data_key: bytes, plaintext: bytes, *, case_id: str, field: str) -> bytes:
    """Encrypt one field of one case under a key derived from the case's data key.

    ``field`` names the slot, e.g. ``"report"``, ``"message:<entry-id>"``, ``"note:<entry-id>"``,
    ``"attachment-name:<id>"``; include the entry id so entries cannot be swapped with each other.
    """
    key = case_subkey(data_key, FIELDS)
    return _aead.encrypt(
        key, plaintext, label=_LABEL_V2, version=VERSION_2, case_id=case_id, field=field
    )


def decrypt_field(data_key: bytes, ciphertext: bytes, *, case_id: str, field: str) -> bytes:
    """Open a field encrypted by :func:`encrypt_field` (format 2, or format 1 written before
    key separation); raises :class:`DecryptionError`."""
    require_key(data_key, "data_key")
    require_bytes(ciphertext, "ciphertext")
    version = ciphertext[0] if ciphertext else None
    if version == VERSION_2:
        key = case_subkey(data_key, FIELDS)
        return _aead.decrypt(
            key, ciphertext, label=_LABEL_V2, version=VERSION_2, case_id=case_id, field=field
        )
    if version == VERSION_1:
        return _aead.decrypt(data_key, ciphertext, label=_LABEL_V1, case_id=case_id, field=field)
    raise DecryptionError()
