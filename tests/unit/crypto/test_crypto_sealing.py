from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import DecryptionError, generate_keypair, new_data_key, seal, unseal

# RFC 7748, section 6.1 (Alice).
KAT_PRIVATE = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
KAT_PUBLIC = bytes.fromhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
KAT_PLAINTEXT = b"a 32-byte case data key........!"
# Sealed once with seal(KAT_PLAINTEXT, KAT_PUBLIC, case_id="case-1", purpose="case-key").
KAT_SEALED = bytes.fromhex(
    "01de0f383d9c327eb4e723ff173799f7ac1bf721c3c624c2da97dec1253e80cd063e10d0f77d640c561e6bc9"
    "6688c983bead27e54a1edfd764a1a40192e4cae419ecf15842c957dc8ca69f12a701b5457c"
)
KAT_INFO = (
    b"\x01"
    + b"\x00\x00\x00\x11quietline/seal/v1"
    + b"\x00\x00\x00\x06case-1"
    + b"\x00\x00\x00\x08case-key"
)


def _unseal_kat(
    blob: bytes, private: bytes = KAT_PRIVATE, case_id: str = "case-1", purpose: str = "case-key"
) -> bytes:
    return unseal(blob, private, case_id=case_id, purpose=purpose)


@settings(max_examples=30, deadline=None)
@given(plaintext=st.binary(max_size=500), case_id=st.text(min_size=1), purpose=st.text(min_size=1))
def test_round_trip(plaintext: bytes, case_id: str, purpose: str) -> None:
    pair = generate_keypair()
    sealed = seal(plaintext, pair.public, case_id=case_id, purpose=purpose)
    assert sealed[0] == 0x01
    assert len(sealed) == 1 + 32 + len(plaintext) + 16
    assert unseal(sealed, pair.private, case_id=case_id, purpose=purpose) == plaintext


def test_the_apps_call() -> None:
    data_key, staff = new_data_key(), generate_keypair()
    sealed = seal(data_key, staff.public, case_id="c-7", purpose="case-key")
    assert unseal(sealed, staff.private, case_id="c-7", purpose="case-key") == data_key


def test_sealing_is_randomised() -> None:
    blobs = {seal(b"k", KAT_PUBLIC, case_id="c", purpose="p") for _ in range(20)}
    assert len(blobs) == 20


def test_known_answer() -> None:
    assert _unseal_kat(KAT_SEALED) == KAT_PLAINTEXT


def test_format_matches_rfc9180_with_the_documented_info() -> None:
    suite = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.CHACHA20_POLY1305)
    private = X25519PrivateKey.from_private_bytes(KAT_PRIVATE)
    assert suite.decrypt(KAT_SEALED[1:], private, KAT_INFO) == KAT_PLAINTEXT


def test_any_tampering_fails(tampered: Callable[[bytes], Iterator[bytes]]) -> None:
    for bad in tampered(KAT_SEALED):
        with pytest.raises(DecryptionError):
            _unseal_kat(bad)


@pytest.mark.parametrize(
    ("case_id", "purpose"),
    [("case-2", "case-key"), ("case-1", "other"), ("case-1c", "ase-key"), ("Case-1", "case-key")],
)
def test_other_case_or_purpose_fails(case_id: str, purpose: str) -> None:
    with pytest.raises(DecryptionError):
        _unseal_kat(KAT_SEALED, case_id=case_id, purpose=purpose)


def test_wrong_private_key_fails() -> None:
    with pytest.raises(DecryptionError):
        _unseal_kat(KAT_SEALED, generate_keypair().private)


@pytest.mark.parametrize("version", [0x00, 0x02, 0xFF])
def test_unknown_version_fails(version: int) -> None:
    with pytest.raises(DecryptionError):
        _unseal_kat(bytes([version]) + KAT_SEALED[1:])


@pytest.mark.parametrize(
    "enc",
    [
        bytes(32),  # the identity: a low-order point
        bytes([1]) + bytes(31),  # another low-order point
        b"\xff" * 32,  # not canonical
    ],
)
def test_invalid_ephemeral_public_key_fails(enc: bytes) -> None:
    with pytest.raises(DecryptionError):
        _unseal_kat(b"\x01" + enc + KAT_SEALED[33:])


def test_short_and_empty_inputs_fail() -> None:
    for blob in [b"", b"\x01", b"\x01" + bytes(32), b"\x01" + bytes(47)]:
        with pytest.raises(DecryptionError):
            _unseal_kat(blob)


@pytest.mark.parametrize("public", [b"", bytes(31), bytes(33), bytes(32)])
def test_unusable_recipient_key_is_a_value_error(public: bytes) -> None:
    with pytest.raises(ValueError):
        seal(b"k", public, case_id="c", purpose="p")


def test_wrong_private_key_length_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="private"):
        unseal(KAT_SEALED, KAT_PRIVATE[:31], case_id="case-1", purpose="case-key")
