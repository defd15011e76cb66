"""The audit log's keyed chain: each event's link is a MAC over the link before it and the event.

``link = HMAC-SHA256(key, context || previous link || event)``. The key is kept outside the
database (the server secrets), so whoever can only write the database can break the chain but
never extend or rewrite it: a link they compute without the key does not verify. The context
binds the MAC to this one use, so a link never passes as any other HMAC the service computes
under another key.

:func:`audit_key_id` names a key without revealing it: events record which key made their link,
so keys can be rotated and old ones kept to verify.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from crypto._encoding import encode_context, require_bytes, require_key

__all__ = ["AUDIT_LINK_BYTES", "audit_key_id", "audit_link", "audit_linker"]

AUDIT_LINK_BYTES = 32
_LINK_LABEL = "quietline/audit-link/v1"
_ID_LABEL = "quietline/audit-key-id/v1"


def audit_link(key: bytes, previous: bytes, event: bytes) -> bytes:
    """The 32-byte link of ``event`` after the link ``previous`` (32 bytes), under ``key``."""
    require_key(key, "key")
    require_bytes(previous, "previous")
    require_bytes(event, "event")
    if len(previous) != AUDIT_LINK_BYTES:
        raise ValueError(f"previous must be {AUDIT_LINK_BYTES} bytes long, not {len(previous)}")
    return hmac.new(key, encode_context(_LINK_LABEL) + previous + event, hashlib.sha256).digest()


def audit_linker(key: bytes) -> Callable[[bytes, bytes], bytes]:
    """:func:`audit_link` under one ``key``, for checking many links: the key and the context
    are absorbed once, and each link costs only its own bytes. Same links, same checks."""
    require_key(key, "key")
    keyed = hmac.new(key, encode_context(_LINK_LABEL), hashlib.sha256)

    def link(previous: bytes, event: bytes) -> bytes:
        require_bytes(previous, "previous")
        require_bytes(event, "event")
        if len(previous) != AUDIT_LINK_BYTES:
            raise ValueError(f"previous must be {AUDIT_LINK_BYTES} bytes long, not {len(previous)}")
        mac = keyed.copy()
        mac.update(previous)
        mac.update(event)
        return mac.digest()

    return link


def audit_key_id(key: bytes) -> str:
    """A short public name of a chain key: 16 hex digits of a MAC of a fixed label under it.

    It tells keys apart and says nothing of the key (finding a key from its id is as hard as
    forging the MAC).
    """
    require_key(key, "key")
    return hmac.new(key, encode_context(_ID_LABEL), hashlib.sha256).hexdigest()[:16]
