from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from hypothesis import given
from hypothesis import strategies as st

from crypto import DecryptionError, encrypt_field, new_data_key, unwrap_key, wrap_key

KAT_KEK = bytes(range(32))
KAT_SECRET = bytes(range(0x40, 0x60))
KAT_BLOB = bytes.fromhex(
    "01a0a1a2a3a4a5a6a7a8a9aaab4cea3a1c09a384eae846b95fb0b7b3b4cd0f81ec173f36f4ec8181ea2d3f9d53"
    "2445a60292c0e5ecb09585174a1c2104"
)
KAT_AD = b"\x01" + b"\x00\x00\x00\x11quietline/wrap/v1" + b"\x00\x00\x00\x0bsession:s-1"


@given(key=st.binary(max_size=200), context=st.text(min_size=1))
def test_round_trip_any_length(key: bytes, context: str) -> None:
    kek = new_data_key()
    assert unwrap_key(kek, wrap_key(kek, key, context=context), context=context) == key


def test_known_answer(fixed_nonce: bytes) -> None:
    assert wrap_key(KAT_KEK, KAT_SECRET, context="session:s-1") == KAT_BLOB
    assert unwrap_key(KAT_KEK, KAT_BLOB, context="session:s-1") == KAT_SECRET


def test_format_matches_the_documented_layout() -> None:
    opened = ChaCha20Poly1305(KAT_KEK).decrypt(KAT_BLOB[1:13], KAT_BLOB[13:], KAT_AD)
    assert opened == KAT_SECRET


def test_any_tampering_fails(tampered: Callable[[bytes], Iterator[bytes]]) -> None:
    for bad in tampered(KAT_BLOB):
        with pytest.raises(DecryptionError):
            unwrap_key(KAT_KEK, bad, context="session:s-1")


@pytest.mark.parametrize("context", ["session:s-2", "Session:s-1", "session:s-1 "])
def test_other_context_fails(context: str) -> None:
    with pytest.raises(DecryptionError):
        unwrap_key(KAT_KEK, KAT_BLOB, context=context)


def test_wrong_kek_fails() -> None:
    with pytest.raises(DecryptionError):
        unwrap_key(new_data_key(), KAT_BLOB, context="session:s-1")


@pytest.mark.parametrize("version", [0x00, 0x02, 0xFF])
def test_unknown_version_fails(version: int) -> None:
    with pytest.raises(DecryptionError):
        unwrap_key(KAT_KEK, bytes([version]) + KAT_BLOB[1:], context="session:s-1")


def test_wraps_and_fields_are_not_interchangeable() -> None:
    """Same key, same strings: the domain labels still keep the two apart."""
    key = new_data_key()
    field_blob = encrypt_field(key, b"secret", case_id="x", field="y")
    with pytest.raises(DecryptionError):
        unwrap_key(key, field_blob, context="x")


@pytest.mark.parametrize("bad_kek", [b"", bytes(16), bytes(31), bytes(64)])
def test_kek_must_be_32_bytes(bad_kek: bytes) -> None:
    with pytest.raises(ValueError, match="kek"):
        wrap_key(bad_kek, b"key", context="c")
    with pytest.raises(ValueError, match="kek"):
        unwrap_key(bad_kek, KAT_BLOB, context="session:s-1")


def test_empty_context_is_refused() -> None:
    with pytest.raises(ValueError, match="context"):
        wrap_key(new_data_key(), b"key", context="")
