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
    are absorbed once, and each link costs only its own bytes. Same links, same checks.

    A chain walk computes a million of these, so the HMAC is spelled out as RFC 2104 defines
    it over SHA-256 states prepared once (an inner hash of the key's inner pad and the
    context, an outer hash of its outer pad): half what copying an ``hmac`` object costs,
    where the Python wrapper around OpenSSL's HMAC is most of the time. The test suite holds
    every link equal to :func:`audit_link`'s.
    """
    require_key(key, "key")
    inner, outer = _hmac_sha256_pads(key)
    inner.update(encode_context(_LINK_LABEL))

    def link(previous: bytes, event: bytes) -> bytes:
        require_bytes(previous, "previous")
        require_bytes(event, "event")
        if len(previous) != AUDIT_LINK_BYTES:
            raise ValueError(f"previous must be {AUDIT_LINK_BYTES} bytes long, not {len(previous)}")
        keyed_inner = inner.copy()
        keyed_inner.update(previous)
        keyed_inner.update(event)
        mac = outer.copy()
        mac.update(keyed_inner.digest())
        return mac.digest()

    return link


def _hmac_sha256_pads(key: bytes) -> tuple[hashlib._Hash, hashlib._Hash]:
    """HMAC-SHA256's two hash states after the key's pads (RFC 2104, section 2). The key is
    32 bytes (``require_key``), shorter than SHA-256's 64-byte block: zeros fill the rest."""
    key = key.ljust(hashlib.sha256().block_size, b"\0")
    inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in key))
    outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in key))
    return inner, outer


def audit_key_id(key: bytes) -> str:
    """A short public name of a chain key: 16 hex digits of a MAC of a fixed label under it.

    It tells keys apart and says nothing of the key (finding a key from its id is as hard as
    forging the MAC).
    """
    require_key(key, "key")
    return hmac.new(key, encode_context(_ID_LABEL), hashlib.sha256).hexdigest()[:16]
