"""A case's keys by epoch (crypto/epochs.py): packed into what is sealed to each holder."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import crypto


def test_a_case_that_never_changed_epoch_packs_as_its_one_key() -> None:
    key = crypto.new_data_key()
    keys = crypto.KeyEpochs.first(key)
    assert keys.pack() == key
    assert crypto.KeyEpochs.unpack(key).latest == key
    assert keys.current == crypto.FIRST_EPOCH


def test_a_new_epoch_keeps_the_earlier_keys_and_writes_with_the_newest() -> None:
    first, second = crypto.new_data_key(), crypto.new_data_key()
    keys = crypto.KeyEpochs.first(first).advanced(second)
    assert (keys.current, keys.latest, keys.of(1)) == (2, second, first)
    again = crypto.KeyEpochs.unpack(keys.pack())
    assert dict(again.keys) == {1: first, 2: second}


def test_an_epoch_the_keys_do_not_reach_fails_like_any_decryption() -> None:
    keys = crypto.KeyEpochs.first(crypto.new_data_key())
    with pytest.raises(crypto.DecryptionError):
        keys.of(2)


@given(st.binary(max_size=200))
def test_unpacking_anything_else_fails_with_the_one_error(blob: bytes) -> None:
    try:
        keys = crypto.KeyEpochs.unpack(blob)
    except crypto.DecryptionError:
        return
    assert keys.pack() == blob or len(blob) == crypto.DATA_KEY_BYTES


def test_the_keys_never_print() -> None:
    key = crypto.new_data_key()
    assert key.hex() not in repr(crypto.KeyEpochs.first(key))
    assert repr(key) not in repr(crypto.KeyEpochs.first(key))


def test_each_epoch_has_one_field_cipher_that_opens_what_its_key_wrote() -> None:
    first, second = crypto.new_data_key(), crypto.new_data_key()
    keys = crypto.KeyEpochs.first(first).advanced(second)
    blob = crypto.encrypt_field(first, b"an early message", case_id="c", field="message:1")

    assert keys.fields(1).decrypt(blob, case_id="c", field="message:1") == b"an early message"
    assert keys.fields(1) is keys.fields(1)  # the field key is derived once for these keys
    with pytest.raises(crypto.DecryptionError):
        keys.fields(2).decrypt(blob, case_id="c", field="message:1")
    with pytest.raises(crypto.DecryptionError):
        keys.fields(3)
    assert keys == crypto.KeyEpochs.unpack(keys.pack())  # the ciphers are not part of equality
