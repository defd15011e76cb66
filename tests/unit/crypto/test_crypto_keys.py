from __future__ import annotations

import pytest

from crypto import DATA_KEY_BYTES, KeyPair, generate_keypair, new_data_key, public_key_of

# RFC 7748, section 6.1 (Alice).
RFC7748_PRIVATE = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
RFC7748_PUBLIC = bytes.fromhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")


def test_data_keys_are_32_random_bytes() -> None:
    keys = {new_data_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(len(key) == DATA_KEY_BYTES == 32 for key in keys)


def test_generated_keypair_is_consistent_and_fresh() -> None:
    first, second = generate_keypair(), generate_keypair()
    assert len(first.private) == len(first.public) == 32
    assert public_key_of(first.private) == first.public
    assert first.private != second.private


def test_public_key_of_known_answer() -> None:
    assert public_key_of(RFC7748_PRIVATE) == RFC7748_PUBLIC


def test_repr_hides_the_private_key() -> None:
    pair = KeyPair(private=RFC7748_PRIVATE, public=RFC7748_PUBLIC)
    text = repr(pair) + str(pair)
    assert RFC7748_PRIVATE.hex() not in text
    assert repr(RFC7748_PRIVATE) not in text
    assert RFC7748_PUBLIC.hex() in text


def test_keypair_is_frozen() -> None:
    pair = generate_keypair()
    with pytest.raises(AttributeError):
        pair.private = bytes(32)  # type: ignore[misc]


@pytest.mark.parametrize("bad", [b"", bytes(31), bytes(33)])
def test_wrong_key_lengths_are_refused(bad: bytes) -> None:
    with pytest.raises(ValueError):
        public_key_of(bad)
    with pytest.raises(ValueError):
        KeyPair(private=bad, public=RFC7748_PUBLIC)
    with pytest.raises(ValueError):
        KeyPair(private=RFC7748_PRIVATE, public=bad)


def test_key_error_messages_do_not_show_the_key() -> None:
    with pytest.raises(ValueError) as info:
        public_key_of(RFC7748_PRIVATE + b"x")
    assert RFC7748_PRIVATE.hex() not in str(info.value)
