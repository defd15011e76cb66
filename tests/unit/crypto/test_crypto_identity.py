"""A confidential identity opens only with both halves, bound to its case."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

import crypto.identity
from crypto import DecryptionError, open_identity, seal_identity

OFFICERS_HALF = bytes(range(32))
CUSTODIANS_HALF = bytes(range(32, 64))
# The HKDF info and associated data spelled out by hand, to pin the format independently.
KAT_KEY_INFO = b"\x01" + b"\x00\x00\x00\x19quietline/identity-key/v1" + b"\x00\x00\x00\x06case-1"
KAT_AD = b"\x01" + b"\x00\x00\x00\x15quietline/identity/v1" + b"\x00\x00\x00\x06case-1"
IDENTITY = b'{"name": "Ada", "contact": "555-0100"}'


@pytest.fixture
def fixed_halves(monkeypatch: pytest.MonkeyPatch) -> None:
    halves = iter((OFFICERS_HALF, CUSTODIANS_HALF))
    monkeypatch.setattr(crypto.identity, "_random_half", lambda: next(halves))


def test_round_trip_with_both_halves() -> None:
    made = seal_identity(IDENTITY, case_id="case-1")
    assert made.officers_half != made.custodians_half
    assert IDENTITY not in made.sealed
    opened = open_identity(
        made.sealed,
        officers_half=made.officers_half,
        custodians_half=made.custodians_half,
        case_id="case-1",
    )
    assert opened == IDENTITY
    assert "half" not in repr(made).replace("halves=<redacted>", "")
    assert made.officers_half.hex() not in repr(made)


def test_format_matches_the_documented_layout(fixed_nonce: bytes, fixed_halves: None) -> None:
    made = seal_identity(IDENTITY, case_id="case-1")
    key = HKDF(SHA256(), 32, salt=None, info=KAT_KEY_INFO).derive(OFFICERS_HALF + CUSTODIANS_HALF)
    assert made.sealed[0] == 0x01 and made.sealed[1:13] == fixed_nonce
    assert ChaCha20Poly1305(key).decrypt(made.sealed[1:13], made.sealed[13:], KAT_AD) == IDENTITY


def test_one_half_alone_never_opens() -> None:
    """Each half holder alone, guessing the other half (zeros, their own half twice, a fresh
    random half), opens nothing."""
    made = seal_identity(IDENTITY, case_id="case-1")
    for officers, custodians in (
        (made.officers_half, bytes(32)),
        (made.officers_half, made.officers_half),
        (bytes(32), made.custodians_half),
        (made.custodians_half, made.custodians_half),
        (made.custodians_half, made.officers_half),  # the halves swapped
        (made.officers_half, crypto.new_data_key()),
    ):
        with pytest.raises(DecryptionError):
            open_identity(
                made.sealed, officers_half=officers, custodians_half=custodians, case_id="case-1"
            )


def test_bound_to_its_case() -> None:
    made = seal_identity(IDENTITY, case_id="case-1")
    with pytest.raises(DecryptionError):
        open_identity(
            made.sealed,
            officers_half=made.officers_half,
            custodians_half=made.custodians_half,
            case_id="case-2",
        )


def test_tampering_fails(tampered: Callable[[bytes], Iterator[bytes]]) -> None:
    made = seal_identity(IDENTITY, case_id="case-1")
    for blob in tampered(made.sealed):
        with pytest.raises(DecryptionError):
            open_identity(
                blob,
                officers_half=made.officers_half,
                custodians_half=made.custodians_half,
                case_id="case-1",
            )


def test_fresh_halves_each_time() -> None:
    first, second = (seal_identity(IDENTITY, case_id="case-1") for _ in range(2))
    assert first.officers_half != second.officers_half
    assert first.custodians_half != second.custodians_half


def test_halves_must_be_keys() -> None:
    made = seal_identity(IDENTITY, case_id="case-1")
    with pytest.raises(ValueError):
        open_identity(
            made.sealed,
            officers_half=b"short",
            custodians_half=made.custodians_half,
            case_id="case-1",
        )
