"""Keys derived from a case's data key, one per use (format version 2).

The data key is never used as a cipher key itself: fields and attachments each get their own
key, HKDF-SHA256 over the data key with a distinct label, so a weakness or misuse in one
construction (say, a nonce repeated by a future bug in field encryption) says nothing about the
keys of the other.

- subkey = HKDF-SHA256(ikm = data key, salt = none,
  info = ``0x01 || len || "quietline/case-subkey/v2" || len || purpose``)
- purposes: :data:`FIELDS` (``"fields"``), :data:`ATTACHMENTS` (``"attachments"``)
"""

from __future__ import annotations

from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crypto._encoding import KEY_BYTES, encode_context, require_key

FIELDS = "fields"
ATTACHMENTS = "attachments"
_LABEL = "quietline/case-subkey/v2"
# The HKDF info of each purpose: constants, encoded once.
_INFO = {purpose: encode_context(_LABEL, purpose=purpose) for purpose in (FIELDS, ATTACHMENTS)}


def case_subkey(data_key: bytes, purpose: str) -> bytes:
    """The 32-byte key of ``purpose`` under ``data_key``; the same inputs give the same key."""
    require_key(data_key, "data_key")
    info = _INFO.get(purpose)
    if info is None:
        raise ValueError("unknown case subkey purpose")
    return HKDF(SHA256(), KEY_BYTES, salt=None, info=info).derive(data_key)
