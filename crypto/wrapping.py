"""Symmetric key wrapping: a secret encrypted under a key-encryption key (KEK).

Used for the reporter's copy of the case data key (KEK derived from the token) and for a staff
private key held in a session row (KEK = the session key in the cookie). ``context`` names what
is wrapped and for whom, e.g. ``"reporter-data-key:<case-id>"``, so a wrap moved elsewhere fails.

Format v1 is that of :mod:`crypto.fields` with the label ``"quietline/wrap/v1"`` and ``context``
as the only context part.
"""

from __future__ import annotations

from crypto import _aead
from crypto._encoding import require_key

__all__ = ["unwrap_key", "wrap_key"]

_LABEL = "quietline/wrap/v1"


def wrap_key(kek: bytes, key: bytes, *, context: str) -> bytes:
    """Encrypt ``key`` (any length) under the 32-byte ``kek``."""
    require_key(kek, "kek")
    return _aead.encrypt(kek, key, label=_LABEL, context=context)


def unwrap_key(kek: bytes, wrapped: bytes, *, context: str) -> bytes:
    """Open a wrap made by :func:`wrap_key`; raises :class:`DecryptionError`."""
    require_key(kek, "kek")
    return _aead.decrypt(kek, wrapped, label=_LABEL, context=context)
