"""How the inputs of every construction become bytes: the format version, the context a
ciphertext is bound to, and the checks on keys.

The context encoding is injective: each part is length-prefixed, so ("ab", "c") and ("a", "bc")
never encode alike, and the domain label keeps one construction's context from ever equalling
another's.
"""

from __future__ import annotations

import functools

from dataclasses import dataclass

VERSION_1 = 0x01
"""The first byte of the blobs of the first format, and of every encoded context."""

VERSION_2 = 0x02
"""The first byte of field and attachment blobs whose key is derived from the case data key
(:mod:`crypto._subkeys`) rather than the data key itself."""

KEY_BYTES = 32


def encode_context(label: str, **parts: str) -> bytes:
    """``version || len(label) || label || len(part) || part ...``, lengths 4-byte big-endian.

    Keyword names only serve error messages; the order of the keywords is the order of encoding.
    Every part must be a non-empty ``str``: an empty case id or field name is a caller bug that
    would otherwise silently bind ciphertexts to nothing in particular.
    """
    out = [_encoded_label(label)]
    for name, value in parts.items():
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a str, not {type(value).__name__}")
        if not value:
            raise ValueError(f"{name} must not be empty")
        encoded = value.encode("utf-8")
        out.append(len(encoded).to_bytes(4, "big"))
        out.append(encoded)
    return b"".join(out)


@functools.lru_cache(maxsize=64)
def _encoded_label(label: str) -> bytes:
    """The version and the label: labels are the package's own constants, encoded once each."""
    return bytes([VERSION_1]) + _length_prefixed(label.encode("utf-8"))


def _length_prefixed(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def require_key(key: bytes, name: str) -> None:
    """Refuse anything but 32 bytes, naming the argument and never showing its value."""
    if not isinstance(key, bytes):
        raise TypeError(f"{name} must be bytes, not {type(key).__name__}")
    if len(key) != KEY_BYTES:
        raise ValueError(f"{name} must be {KEY_BYTES} bytes long, not {len(key)}")


def require_bytes(data: bytes, name: str) -> None:
    if not isinstance(data, bytes):
        raise TypeError(f"{name} must be bytes, not {type(data).__name__}")


@dataclass(frozen=True, repr=False)
class RawKeyPair:
    """Two raw 32-byte halves; ``repr`` shows only the public one. Subclasses name the curve,
    so an X25519 pair is never taken for an Ed25519 one."""

    private: bytes
    public: bytes

    def __post_init__(self) -> None:
        require_key(self.private, "private")
        require_key(self.public, "public")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(public={self.public.hex()!r}, private=<redacted>)"
