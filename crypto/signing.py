"""Ed25519 signatures, for the recipient directory and the audit checkpoints.

A signature is made over ``encode_context(label, purpose) || message``: the purpose (for example
``"directory-entry"`` or ``"audit-checkpoint"``) is bound into what is signed, so a signature made
for one use never verifies for another.

Keys are raw bytes (32 each); signatures are 64 bytes. Verification has one error,
:class:`SignatureError`, whatever the cause.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from crypto._encoding import RawKeyPair, encode_context, require_bytes, require_key
from crypto.errors import SignatureError

__all__ = [
    "SIGNATURE_BYTES",
    "SigningKeyPair",
    "generate_signing_keypair",
    "sign",
    "signing_public_key_of",
    "verify",
]

SIGNATURE_BYTES = 64
_LABEL = "quietline/sign/v1"


@dataclass(frozen=True, repr=False)
class SigningKeyPair(RawKeyPair):
    """A raw Ed25519 key pair (32 bytes each), for signing. ``repr`` shows only the public half."""


def generate_signing_keypair() -> SigningKeyPair:
    private = Ed25519PrivateKey.generate()
    return SigningKeyPair(
        private=private.private_bytes_raw(),
        public=private.public_key().public_bytes_raw(),
    )


def signing_public_key_of(private: bytes) -> bytes:
    """The public half of a raw Ed25519 private key (ValueError if it is not 32 bytes)."""
    require_key(private, "private")
    return Ed25519PrivateKey.from_private_bytes(private).public_key().public_bytes_raw()


def sign(private: bytes, message: bytes, *, purpose: str) -> bytes:
    """A 64-byte signature of ``message`` for ``purpose`` with the raw private key."""
    require_key(private, "private")
    require_bytes(message, "message")
    key = Ed25519PrivateKey.from_private_bytes(private)
    return key.sign(encode_context(_LABEL, purpose=purpose) + message)


def verify(public: bytes, message: bytes, signature: bytes, *, purpose: str) -> None:
    """Return if ``signature`` is ``public``'s signature of ``message`` for ``purpose``.

    Raises :class:`SignatureError` otherwise, including for a public key that is not a valid
    Ed25519 point or a signature of the wrong length.
    """
    require_bytes(message, "message")
    require_bytes(signature, "signature")
    require_bytes(public, "public")
    if len(public) != 32 or len(signature) != SIGNATURE_BYTES:
        raise SignatureError()
    try:
        _public_key(public).verify(signature, encode_context(_LABEL, purpose=purpose) + message)
    except (InvalidSignature, ValueError):
        raise SignatureError() from None


@functools.lru_cache(maxsize=256)
def _public_key(raw: bytes) -> Ed25519PublicKey:
    """The same few directory keys verify every entry: each is parsed once."""
    return Ed25519PublicKey.from_public_bytes(raw)
