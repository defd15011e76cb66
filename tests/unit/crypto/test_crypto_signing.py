from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import (
    SIGNATURE_BYTES,
    SignatureError,
    generate_signing_keypair,
    sign,
    signing_public_key_of,
    verify,
)

# RFC 8032, section 7.1, test 1: the raw key pair.
KAT_PRIVATE = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
KAT_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
KAT_SIGNED = (
    b"\x01" + b"\x00\x00\x00\x11quietline/sign/v1" + b"\x00\x00\x00\x0fdirectory-entry" + b"entry"
)


def test_known_key_pair_and_signed_bytes() -> None:
    assert signing_public_key_of(KAT_PRIVATE) == KAT_PUBLIC
    signature = sign(KAT_PRIVATE, b"entry", purpose="directory-entry")
    assert len(signature) == SIGNATURE_BYTES
    # What is signed is the purpose's context followed by the message, checked with the
    # library's own verifier so the encoding is pinned independently of crypto.verify.
    Ed25519PublicKey.from_public_bytes(KAT_PUBLIC).verify(signature, KAT_SIGNED)
    verify(KAT_PUBLIC, b"entry", signature, purpose="directory-entry")


@settings(max_examples=25, deadline=None)
@given(message=st.binary(max_size=300), purpose=st.text(min_size=1, max_size=30))
def test_round_trip(message: bytes, purpose: str) -> None:
    pair = generate_signing_keypair()
    verify(pair.public, message, sign(pair.private, message, purpose=purpose), purpose=purpose)


def test_every_change_is_refused_with_one_error() -> None:
    pair = generate_signing_keypair()
    other = generate_signing_keypair()
    signature = sign(pair.private, b"message", purpose="directory-entry")
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    cases = [
        (other.public, b"message", signature, "directory-entry"),
        (pair.public, b"messagf", signature, "directory-entry"),
        (pair.public, b"message", signature, "audit-checkpoint"),
        (pair.public, b"message", flipped, "directory-entry"),
        (pair.public, b"message", signature[:-1], "directory-entry"),
        (pair.public[:-1], b"message", signature, "directory-entry"),
        (b"\x00" * 31 + b"\x80", b"message", signature, "directory-entry"),
    ]
    for public, message, sig, purpose in cases:
        with pytest.raises(SignatureError) as caught:
            verify(public, message, sig, purpose=purpose)
        assert str(caught.value) == "The signature is not valid."


def test_repr_hides_the_private_half() -> None:
    pair = generate_signing_keypair()
    assert pair.private.hex() not in repr(pair)
    assert pair.public.hex() in repr(pair)


def test_bad_argument_types_are_caller_errors() -> None:
    with pytest.raises(TypeError):
        sign("key", b"m", purpose="p")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        sign(b"short", b"m", purpose="p")
    with pytest.raises(ValueError):
        sign(KAT_PRIVATE, b"m", purpose="")
