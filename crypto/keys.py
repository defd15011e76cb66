"""Random case data keys and X25519 key pairs, as raw bytes ready to store."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from crypto._encoding import KEY_BYTES, RawKeyPair, require_key

__all__ = ["DATA_KEY_BYTES", "KeyPair", "generate_keypair", "new_data_key", "public_key_of"]

DATA_KEY_BYTES = KEY_BYTES


def new_data_key() -> bytes:
    """A fresh random 256-bit key for one case."""
    return secrets.token_bytes(DATA_KEY_BYTES)


@dataclass(frozen=True, repr=False)
class KeyPair(RawKeyPair):
    """A raw X25519 key pair (32 bytes each), for sealing. ``repr`` shows only the public half."""


def generate_keypair() -> KeyPair:
    private = X25519PrivateKey.generate()
    return KeyPair(
        private=private.private_bytes_raw(),
        public=private.public_key().public_bytes_raw(),
    )


def public_key_of(private: bytes) -> bytes:
    """The public half of a raw X25519 private key (ValueError if it is not 32 bytes)."""
    require_key(private, "private")
    return X25519PrivateKey.from_private_bytes(private).public_key().public_bytes_raw()
