"""Password-locked secrets: a staff member's private key, stored so that only their password
opens it, together with what checks the password.

One Argon2id derivation per operation gives 64 bytes, which HKDF-Expand splits into a verifier
(stored, to tell a wrong password from a damaged record) and a key-encryption key (never
stored). Distinct HKDF labels make the two independent: the verifier reveals nothing about the
KEK, and a login costs one derivation.

Credential format v1 (big-endian)::

    0x01 || iterations (u32) || memory_kib (u32) || lanes (u32) || salt (16) || verifier (32)
         || AEAD blob (0x01 || nonce || ChaCha20-Poly1305(secret) || tag), see crypto._aead

The derivations are CPU-heavy and synchronous: run them in a worker thread.
"""

from __future__ import annotations

import hmac
import os
import struct
import unicodedata
from dataclasses import dataclass

from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from crypto import _aead
from crypto._encoding import VERSION_1, require_bytes
from crypto.errors import DecryptionError, WrongPassword

__all__ = ["DEFAULT_COST", "PasswordCost", "credential_cost", "lock_secret", "unlock_secret"]

SALT_BYTES = 16
_VERIFIER_BYTES = 32
_PARAMS = struct.Struct(">BIII")  # version, iterations, memory_kib, lanes
_SALT_AT = _PARAMS.size
_VERIFIER_AT = _SALT_AT + SALT_BYTES
_SECRET_AT = _VERIFIER_AT + _VERIFIER_BYTES
_LABEL = "quietline/password-secret/v1"
_VERIFIER_INFO = b"quietline/password/verifier/v1"
_KEK_INFO = b"quietline/password/kek/v1"

# Bounds that keep a damaged credential from asking for terabytes of memory or an hour of work.
MAX_ITERATIONS = 100
MAX_MEMORY_KIB = 4 * 1024 * 1024  # 4 GiB
# cryptography 50's Argon2id hangs when two threads derive at once with lanes > 1
# (STACK-NOTES.md), and the app derives in threads, so more than one lane is refused.
MAX_LANES = 1


@dataclass(frozen=True)
class PasswordCost:
    """Argon2id parameters. The defaults: 3 passes over 64 MiB, one lane."""

    iterations: int = 3
    memory_kib: int = 65536
    lanes: int = 1

    def __post_init__(self) -> None:
        for name in ("iterations", "memory_kib", "lanes"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{name} must be an int")
        if not 1 <= self.lanes <= MAX_LANES:
            raise ValueError(f"lanes must be between 1 and {MAX_LANES}")
        if not 1 <= self.iterations <= MAX_ITERATIONS:
            raise ValueError(f"iterations must be between 1 and {MAX_ITERATIONS}")
        if not 8 * self.lanes <= self.memory_kib <= MAX_MEMORY_KIB:
            raise ValueError(f"memory_kib must be between 8 * lanes and {MAX_MEMORY_KIB}")


DEFAULT_COST = PasswordCost()


def _random_salt() -> bytes:
    """The salt source; tests replace it to compute known-answer vectors."""
    return os.urandom(SALT_BYTES)


def lock_secret(password: str, secret: bytes, cost: PasswordCost = DEFAULT_COST) -> bytes:
    """Encrypt ``secret`` under ``password`` and return the credential to store."""
    require_bytes(secret, "secret")
    if not isinstance(cost, PasswordCost):
        raise TypeError("cost must be a PasswordCost")
    encoded = _encode_password(password)
    if not encoded:
        raise ValueError("the password must not be empty")
    salt = _random_salt()
    verifier, kek = _derive(encoded, salt, cost)
    params = _PARAMS.pack(VERSION_1, cost.iterations, cost.memory_kib, cost.lanes)
    return params + salt + verifier + _aead.encrypt(kek, secret, label=_LABEL)


def unlock_secret(credential: bytes, password: str) -> bytes:
    """The secret locked in ``credential``.

    Raises :class:`WrongPassword` if the password does not match, :class:`DecryptionError` if
    the credential is malformed or its encrypted part was altered. An altered salt, cost or
    verifier is indistinguishable from a wrong password, so it raises :class:`WrongPassword`.
    """
    cost = credential_cost(credential)
    if len(credential) < _SECRET_AT + _aead.OVERHEAD:
        raise DecryptionError()
    try:
        encoded = _encode_password(password)
    except UnicodeEncodeError:  # lone surrogates, e.g. from a JSON "\ud800": never lockable
        raise WrongPassword() from None
    if not encoded:
        raise WrongPassword()
    salt = credential[_SALT_AT:_VERIFIER_AT]
    verifier, kek = _derive(encoded, salt, cost)
    if not hmac.compare_digest(verifier, credential[_VERIFIER_AT:_SECRET_AT]):
        raise WrongPassword()
    return _aead.decrypt(kek, credential[_SECRET_AT:], label=_LABEL)


def credential_cost(credential: bytes) -> PasswordCost:
    """The Argon2id parameters a credential was locked with, to decide on a rehash."""
    require_bytes(credential, "credential")
    if len(credential) < _PARAMS.size:
        raise DecryptionError()
    version, iterations, memory_kib, lanes = _PARAMS.unpack_from(credential)
    if version != VERSION_1:
        raise DecryptionError()
    try:
        return PasswordCost(iterations=iterations, memory_kib=memory_kib, lanes=lanes)
    except ValueError:
        raise DecryptionError() from None


def _encode_password(password: str) -> bytes:
    """NFC, so the same password typed on different systems gives the same bytes.

    Raises UnicodeEncodeError (a ValueError) for text that is not valid Unicode.
    """
    if not isinstance(password, str):
        raise TypeError("the password must be a str")
    return unicodedata.normalize("NFC", password).encode("utf-8")


def _derive(password: bytes, salt: bytes, cost: PasswordCost) -> tuple[bytes, bytes]:
    """One Argon2id derivation, split into (verifier, key-encryption key)."""
    master = Argon2id(
        salt=salt,
        length=64,
        iterations=cost.iterations,
        lanes=cost.lanes,
        memory_cost=cost.memory_kib,
    ).derive(password)
    verifier = HKDFExpand(SHA256(), _VERIFIER_BYTES, _VERIFIER_INFO).derive(master)
    kek = HKDFExpand(SHA256(), 32, _KEK_INFO).derive(master)
    return verifier, kek
