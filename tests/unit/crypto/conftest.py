"""Fixtures shared by the tests of the `crypto` package."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

import crypto._aead

KAT_NONCE = bytes(range(0xA0, 0xAC))


def _tampered(blob: bytes) -> Iterator[bytes]:
    """Every one-byte change (low and high bit), every truncation, and an extension."""
    for i in range(len(blob)):
        for mask in (0x01, 0x80):
            yield blob[:i] + bytes([blob[i] ^ mask]) + blob[i + 1 :]
    for length in range(len(blob)):
        yield blob[:length]
    yield blob + b"\x00"


@pytest.fixture
def tampered() -> Callable[[bytes], Iterator[bytes]]:
    return _tampered


@pytest.fixture
def fixed_nonce(monkeypatch: pytest.MonkeyPatch) -> bytes:
    """Make AEAD nonces deterministic, for known-answer tests."""
    monkeypatch.setattr(crypto._aead, "_random_nonce", lambda: KAT_NONCE)
    return KAT_NONCE
