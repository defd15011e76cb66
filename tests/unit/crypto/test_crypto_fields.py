from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import given
from hypothesis import strategies as st

from crypto import DecryptionError, FieldCipher, decrypt_field, encrypt_field, new_data_key

KAT_KEY = bytes(range(32))
KAT_BLOB = bytes.fromhex(
    "02a0a1a2a3a4a5a6a7a8a9aaab4ee7fdbe7822e293ba7ec29dfa02630dea2b16f75fa566ab108125d17fd2d803"
)
# The HKDF info and associated data spelled out by hand, to pin the format independently of the
# code: the field key is derived from the data key, never the data key itself.
KAT_FIELD_KEY_INFO = (
    b"\x01" + b"\x00\x00\x00\x18quietline/case-subkey/v2" + b"\x00\x00\x00\x06fields"
)
KAT_AD = (
    b"\x01"
    + b"\x00\x00\x00\x12quietline/field/v2"
    + b"\x00\x00\x00\x06case-1"
    + b"\x00\x00\x00\x06report"
)
# Format 1, written before key separation (the data key as the cipher key): still read.
KAT_BLOB_V1 = bytes.fromhex(
    "01a0a1a2a3a4a5a6a7a8a9aaab58c31d7f3f83b2c2d27bd360998289d5f836c6b80b20200c93d393d9aaeb2bf5"
)
KAT_AD_V1 = (
    b"\x01"
    + b"\x00\x00\x00\x12quietline/field/v1"
    + b"\x00\x00\x00\x06case-1"
    + b"\x00\x00\x00\x06report"
)


@given(plaintext=st.binary(max_size=2000), case_id=st.text(min_size=1), field=st.text(min_size=1))
def test_round_trip(plaintext: bytes, case_id: str, field: str) -> None:
    key = new_data_key()
    blob = encrypt_field(key, plaintext, case_id=case_id, field=field)
    assert blob[0] == 0x02
    assert len(blob) == 1 + 12 + len(plaintext) + 16
    assert decrypt_field(key, blob, case_id=case_id, field=field) == plaintext


def test_a_field_cipher_reads_and_writes_the_same_blobs_as_the_one_off_calls(
    fixed_nonce: bytes,
) -> None:
    cipher = FieldCipher(KAT_KEY)
    assert cipher.encrypt(b"The report text.", case_id="case-1", field="report") == KAT_BLOB
    for blob in (KAT_BLOB, KAT_BLOB_V1):
        assert cipher.decrypt(blob, case_id="case-1", field="report") == b"The report text."
        with pytest.raises(DecryptionError):
            cipher.decrypt(blob, case_id="case-1", field="message:1")
    with pytest.raises(DecryptionError):
        FieldCipher(new_data_key()).decrypt(KAT_BLOB, case_id="case-1", field="report")


def test_a_field_cipher_never_prints_its_keys() -> None:
    key = new_data_key()
    assert repr(FieldCipher(key)) == "FieldCipher(...)"
    assert not hasattr(FieldCipher(key), "__dict__")


def test_nonces_are_fresh() -> None:
    key = new_data_key()
    blobs = {encrypt_field(key, b"same", case_id="c", field="report") for _ in range(50)}
    assert len(blobs) == 50


def test_known_answer(fixed_nonce: bytes) -> None:
    blob = encrypt_field(KAT_KEY, b"The report text.", case_id="case-1", field="report")
    assert blob == KAT_BLOB
    assert decrypt_field(KAT_KEY, KAT_BLOB, case_id="case-1", field="report") == b"The report text."


def test_format_matches_the_documented_layout() -> None:
    field_key = HKDF(SHA256(), 32, salt=None, info=KAT_FIELD_KEY_INFO).derive(KAT_KEY)
    opened = ChaCha20Poly1305(field_key).decrypt(KAT_BLOB[1:13], KAT_BLOB[13:], KAT_AD)
    assert opened == b"The report text."


def test_the_data_key_itself_opens_no_field() -> None:
    """Key separation: a field is sealed under a key derived for fields, so the case data key
    (from which attachment keys are derived too) is never a cipher key itself."""
    key = new_data_key()
    blob = encrypt_field(key, b"The report text.", case_id="case-1", field="report")
    for associated_data in (KAT_AD, KAT_AD_V1):
        with pytest.raises(InvalidTag):
            ChaCha20Poly1305(key).decrypt(blob[1:13], blob[13:], associated_data)
    field_key = HKDF(SHA256(), 32, salt=None, info=KAT_FIELD_KEY_INFO).derive(key)
    assert ChaCha20Poly1305(field_key).decrypt(blob[1:13], blob[13:], KAT_AD) == (
        b"The report text."
    )


def test_format_1_still_opens() -> None:
    """Fields written before key separation (a development database) keep opening."""
    opened = ChaCha20Poly1305(KAT_KEY).decrypt(KAT_BLOB_V1[1:13], KAT_BLOB_V1[13:], KAT_AD_V1)
    assert opened == b"The report text."
    text = decrypt_field(KAT_KEY, KAT_BLOB_V1, case_id="case-1", field="report")
    assert text == b"The report text."
    with pytest.raises(DecryptionError):
        decrypt_field(KAT_KEY, KAT_BLOB_V1, case_id="case-2", field="report")


def test_version_byte_cannot_be_swapped() -> None:
    """A format-2 blob relabelled as format 1 (or the reverse) opens under neither."""
    for blob in (b"\x01" + KAT_BLOB[1:], b"\x02" + KAT_BLOB_V1[1:]):
        with pytest.raises(DecryptionError):
            decrypt_field(KAT_KEY, blob, case_id="case-1", field="report")


def test_any_tampering_fails(tampered: Callable[[bytes], Iterator[bytes]]) -> None:
    for bad in tampered(KAT_BLOB):
        with pytest.raises(DecryptionError):
            decrypt_field(KAT_KEY, bad, case_id="case-1", field="report")


@pytest.mark.parametrize(
    ("case_id", "field"),
    [
        ("case-2", "report"),
        ("case-1", "message:1"),
        ("Case-1", "report"),
        ("case-1", "Report"),
        ("report", "case-1"),
        ("case-1r", "eport"),
        ("case-", "1report"),
    ],
)
def test_moved_to_another_case_or_field_fails(case_id: str, field: str) -> None:
    with pytest.raises(DecryptionError):
        decrypt_field(KAT_KEY, KAT_BLOB, case_id=case_id, field=field)


def test_context_parts_cannot_be_shifted() -> None:
    key = new_data_key()
    blob = encrypt_field(key, b"x", case_id="ab", field="c")
    with pytest.raises(DecryptionError):
        decrypt_field(key, blob, case_id="a", field="bc")


def test_wrong_key_fails() -> None:
    with pytest.raises(DecryptionError):
        decrypt_field(new_data_key(), KAT_BLOB, case_id="case-1", field="report")


@pytest.mark.parametrize("version", [0x00, 0x03, 0xFF])
def test_unknown_version_fails(version: int) -> None:
    with pytest.raises(DecryptionError):
        decrypt_field(KAT_KEY, bytes([version]) + KAT_BLOB[1:], case_id="case-1", field="report")


@pytest.mark.parametrize("bad_key", [b"", bytes(16), bytes(33)])
def test_wrong_key_length_is_a_value_error(bad_key: bytes) -> None:
    with pytest.raises(ValueError, match="data_key"):
        encrypt_field(bad_key, b"x", case_id="c", field="f")
    with pytest.raises(ValueError, match="data_key"):
        decrypt_field(bad_key, KAT_BLOB, case_id="case-1", field="report")


def test_empty_or_non_str_context_is_refused() -> None:
    key = new_data_key()
    with pytest.raises(ValueError, match="case_id"):
        encrypt_field(key, b"x", case_id="", field="report")
    with pytest.raises(ValueError, match="field"):
        encrypt_field(key, b"x", case_id="c", field="")
    with pytest.raises(TypeError, match="case_id"):
        encrypt_field(key, b"x", case_id=42, field="report")  # type: ignore[arg-type]


def test_non_bytes_is_a_type_error() -> None:
    key = new_data_key()
    with pytest.raises(TypeError):
        encrypt_field(key, "text", case_id="c", field="f")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        decrypt_field(key, KAT_BLOB.hex(), case_id="c", field="f")  # type: ignore[arg-type]


def test_error_message_does_not_leak_the_key() -> None:
    with pytest.raises(DecryptionError) as info:
        decrypt_field(KAT_KEY, KAT_BLOB[:-1], case_id="case-1", field="report")
    assert KAT_KEY.hex() not in str(info.value)
    assert info.value.__cause__ is None
