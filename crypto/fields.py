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

__all__ = ["FieldCipher", "decrypt_field", "encrypt_field"]

_LABEL_V1 = "quietline/field/v1"
_LABEL_V2 = "quietline/field/v2"


class FieldCipher:
    """The fields of one case under one of its data keys, with the field key derived once.

    For reading or writing many fields of a case in one go (a case view opens two fields a
    message); :func:`encrypt_field` and :func:`decrypt_field` are the one-off forms. Hold it only
    as long as the work at hand, as one would the data key itself.
    """

    __slots__ = ("_data_key", "_field_key")

    def __init__(self, data_key: bytes) -> None:
        require_key(data_key, "data_key")
        self._data_key = data_key
        self._field_key = case_subkey(data_key, FIELDS)

    def encrypt(self, plaintext: bytes, *, case_id: str, field: str) -> bytes:
        """Encrypt one field of one case.

        ``field`` names the slot, e.g. ``"report"``, ``"message:<entry-id>"``,
        ``"note:<entry-id>"``, ``"attachment-name:<id>"``; include the entry id so entries
        cannot be swapped with each other.
        """
        return _aead.encrypt(
            self._field_key,
            plaintext,
            label=_LABEL_V2,
            version=VERSION_2,
            case_id=case_id,
            field=field,
        )

    def decrypt(self, ciphertext: bytes, *, case_id: str, field: str) -> bytes:
        """Open a field of format 2, or of format 1 (written before key separation); raises
        :class:`DecryptionError`."""
        require_bytes(ciphertext, "ciphertext")
        version = ciphertext[0] if ciphertext else None
        if version == VERSION_2:
            return _aead.decrypt(
                self._field_key,
                ciphertext,
                label=_LABEL_V2,
                version=VERSION_2,
                case_id=case_id,
                field=field,
            )
        if version == VERSION_1:
            return _aead.decrypt(
                self._data_key, ciphertext, label=_LABEL_V1, case_id=case_id, field=field
            )
        raise DecryptionError()

    def __repr__(self) -> str:
        return "FieldCipher(...)"


def encrypt_field(data_key: bytes, plaintext: bytes, *, case_id: str, field: str) -> bytes:
    """Encrypt one field of one case under a key derived from the case's data key (see
    :meth:`FieldCipher.encrypt`)."""
    return FieldCipher(data_key).encrypt(plaintext, case_id=case_id, field=field)


def decrypt_field(data_key: bytes, ciphertext: bytes, *, case_id: str, field: str) -> bytes:
    """Open a field encrypted by :func:`encrypt_field` (format 2, or format 1 written before
    key separation); raises :class:`DecryptionError`."""
    return FieldCipher(data_key).decrypt(ciphertext, case_id=case_id, field=field)
