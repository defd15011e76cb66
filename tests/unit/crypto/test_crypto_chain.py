"""The audit chain's keyed link: pinned bytes, a key of its own, and every input bound."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crypto import AUDIT_LINK_BYTES, audit_key_id, audit_link, audit_linker

KEY = bytes(range(32))
PREVIOUS = bytes(32)


def test_known_answer() -> None:
    # The MAC is HMAC-SHA256 over the encoded context, the previous link and the event,
    # computed here with the standard library so the encoding is pinned independently.
    context = b"\x01" + b"\x00\x00\x00\x17quietline/audit-link/v1"
    expected = hmac.new(KEY, context + PREVIOUS + b"event", hashlib.sha256).digest()
    assert audit_link(KEY, PREVIOUS, b"event") == expected
    assert len(expected) == AUDIT_LINK_BYTES


def test_every_input_changes_the_link() -> None:
    link = audit_link(KEY, PREVIOUS, b"event")
    assert audit_link(bytes(31) + b"\x01", PREVIOUS, b"event") != link
    assert audit_link(KEY, b"\x01" + bytes(31), b"event") != link
    assert audit_link(KEY, PREVIOUS, b"evenT") != link


def test_a_plain_hash_of_the_same_bytes_is_not_a_link() -> None:
    # What a database writer without the key can compute never equals the link.
    unkeyed = hashlib.sha256(PREVIOUS + b"event").digest()
    assert audit_link(KEY, PREVIOUS, b"event") != unkeyed


def test_key_id_is_short_stable_and_reveals_no_key() -> None:
    key_id = audit_key_id(KEY)
    assert key_id == audit_key_id(KEY) and len(key_id) == 16
    assert key_id != audit_key_id(bytes(32))
    assert KEY.hex()[:16] != key_id


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError):
        audit_link(bytes(16), PREVIOUS, b"event")
    with pytest.raises(ValueError):
        audit_link(KEY, bytes(16), b"event")
    with pytest.raises(TypeError):
        audit_link(KEY, PREVIOUS, "event")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        audit_key_id(b"short")


def test_the_linker_gives_the_same_links_and_refuses_the_same_inputs() -> None:
    """audit_verify checks a million links with one linker per key: same bytes as audit_link."""
    link = audit_linker(KEY)
    previous = PREVIOUS
    for number in range(50):
        event = f"event {number}".encode()
        assert link(previous, event) == audit_link(KEY, previous, event)
        previous = link(previous, event)
    assert audit_linker(bytes(31) + b"\x01")(PREVIOUS, b"event") != link(PREVIOUS, b"event")
    with pytest.raises(ValueError):
        link(bytes(31), b"event")
    with pytest.raises((TypeError, ValueError)):
        link(PREVIOUS, "event")  # type: ignore[arg-type]
    with pytest.raises((TypeError, ValueError)):
        audit_linker(b"short")


@given(
    key=st.binary(min_size=32, max_size=32),
    previous=st.binary(min_size=32, max_size=32),
    event=st.binary(max_size=300),
)
def test_the_linker_is_hmac_sha256_for_any_key_and_event(
    key: bytes, previous: bytes, event: bytes
) -> None:
    """The linker spells HMAC out over prepared SHA-256 states: the standard library's HMAC
    over the same bytes is the judge, for keys with every byte value."""
    context = b"\x01" + b"\x00\x00\x00\x17quietline/audit-link/v1"
    expected = hmac.new(key, context + previous + event, hashlib.sha256).digest()
    link = audit_linker(key)
    assert link(previous, event) == expected
    assert link(previous, event) == expected  # the prepared states are not used up
