from __future__ import annotations

import hashlib
import hmac
import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import (
    TOKEN_BITS,
    TOKEN_LENGTH,
    TokenTypo,
    format_token,
    new_token,
    normalise_token,
    pepper_check,
    reporter_key,
    token_lookup_key,
)
from crypto.tokens import ALPHABET

KAT_TOKEN = "0123456789ABCDEFGHJKMNPQR"
KAT_DISPLAY = "01234-56789-ABCDE-FGHJK-MNPQR"
PEPPER = bytes(range(32))
DISPLAY_FORM = re.compile(r"^([0-9A-HJKMNP-TV-Z]{5}-){4}[0-9A-HJKMNP-TV-Z]{5}$")
# Luhn mod 32 confuses 0 (code point 0) and Z (code point 31) when they are swapped.
UNDETECTED_SWAP = {"0", "Z"}


def _luhn_sum(text: str) -> int:
    """Luhn mod N (N = 32) written independently: weights 1, 2, 1, ... from the right, and the
    base-N digits of each weighted value summed."""
    total = 0
    for position, char in enumerate(reversed(text)):
        total += sum(divmod(ALPHABET.index(char) * (2 if position % 2 else 1), 32))
    return total


def _check_char(data: str) -> str:
    """The check character makes the Luhn sum of all 25 characters divisible by 32."""
    return ALPHABET[-_luhn_sum(data + "0") % 32]


def _valid(data: str) -> str:
    return data + _check_char(data)


data_strategy = st.text(alphabet=ALPHABET, min_size=24, max_size=24)
canonical_strategy = data_strategy.map(_valid)


def test_sizes() -> None:
    assert TOKEN_BITS == 120
    assert TOKEN_LENGTH == 25
    assert len(ALPHABET) == 32 and set(ALPHABET).isdisjoint("ILOU")


def test_new_tokens_are_distinct_and_well_formed() -> None:
    tokens = {new_token() for _ in range(1000)}
    assert len(tokens) == 1000
    for token in tokens:
        assert DISPLAY_FORM.match(token)
        canonical = normalise_token(token)
        assert len(canonical) == 25
        assert _luhn_sum(canonical) % 32 == 0


def test_new_tokens_use_every_character() -> None:
    seen = "".join(normalise_token(new_token())[:24] for _ in range(200))
    assert set(seen) == set(ALPHABET)


def test_known_answers() -> None:
    assert _valid("0" * 24) == "0" * 25
    assert _valid("0123456789ABCDEFGHJKMNPQ") == KAT_TOKEN
    assert format_token(KAT_TOKEN) == KAT_DISPLAY
    assert normalise_token(KAT_DISPLAY) == KAT_TOKEN
    for data in ["Z" * 24, "RSTVWXYZ0123456789ABCDEF"]:
        assert normalise_token(data + "R") == data + "R"


@given(canonical_strategy)
def test_format_normalise_round_trip(canonical: str) -> None:
    display = format_token(canonical)
    assert DISPLAY_FORM.match(display)
    assert normalise_token(display) == canonical
    assert normalise_token(canonical) == canonical


@settings(max_examples=50, deadline=None)
@given(canonical=canonical_strategy, data=st.data())
def test_forgiving_spellings(canonical: str, data: st.DataObject) -> None:
    """Lower case, any spaces or dashes (or none), typographic dashes, O/I/L for 0/1."""
    separators = st.sampled_from(["", " ", "-", "--", "\t", "\n", " - ", "\u2013", "\u2014", "."])
    typed = data.draw(separators)
    for char in canonical:
        variants = {char, char.lower()}
        if char == "0":
            variants |= {"O", "o"}
        if char == "1":
            variants |= {"I", "i", "L", "l"}
        typed += data.draw(st.sampled_from(sorted(variants))) + data.draw(separators)
    assert normalise_token(typed) == canonical


def test_pasted_with_surrounding_whitespace_and_full_width_forms() -> None:
    assert normalise_token(f"  {KAT_DISPLAY.lower()}\r\n") == KAT_TOKEN
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in KAT_TOKEN)
    assert normalise_token(full_width) == KAT_TOKEN
    assert normalise_token(KAT_DISPLAY.replace("-", "\u00a0")) == KAT_TOKEN
    invisible = "\ufeff" + KAT_DISPLAY.replace("-", "\u200b\u00ad") + "\u200e"
    assert normalise_token(invisible) == KAT_TOKEN


@settings(max_examples=40, deadline=None)
@given(canonical_strategy)
def test_every_single_substitution_is_a_typo(canonical: str) -> None:
    for position in range(TOKEN_LENGTH):
        for char in ALPHABET:
            if char == canonical[position]:
                continue
            typo = canonical[:position] + char + canonical[position + 1 :]
            with pytest.raises(TokenTypo, match="mistyped"):
                normalise_token(typo)


def test_adjacent_transpositions_are_detected_except_0_z() -> None:
    """Exhaustive over every pair of characters at every pair of data positions."""
    rng = random.Random(7)
    for position in range(23):
        for a in ALPHABET:
            for b in ALPHABET:
                if a == b:
                    continue
                data = [rng.choice(ALPHABET) for _ in range(24)]
                data[position], data[position + 1] = a, b
                swapped = data.copy()
                swapped[position], swapped[position + 1] = b, a
                typo = "".join(swapped) + _check_char("".join(data))
                if {a, b} == UNDETECTED_SWAP:
                    assert normalise_token(typo) == typo  # the documented blind spot
                else:
                    with pytest.raises(TokenTypo):
                        normalise_token(typo)


@given(canonical_strategy)
def test_swapping_the_last_data_character_with_the_check_character(canonical: str) -> None:
    a, b = canonical[23], canonical[24]
    typo = canonical[:23] + b + a
    if a == b or {a, b} == UNDETECTED_SWAP:
        return
    with pytest.raises(TokenTypo):
        normalise_token(typo)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (KAT_TOKEN[:-1], "The token should have 25 characters; you typed 24."),
        (KAT_TOKEN + "0", "The token should have 25 characters; you typed 26."),
        ("", "The token should have 25 characters; you typed nothing."),
        (" - -- ", "The token should have 25 characters; you typed nothing."),
        ("U" + KAT_TOKEN[1:], "The token contains 'U', which is never used in tokens."),
        ("u" + KAT_TOKEN[1:], "The token contains 'u', which is never used in tokens."),
        (KAT_TOKEN[:10] + "*" + KAT_TOKEN[11:], "The token contains '*', which is never used"),
        (KAT_TOKEN[:-1] + "0", "A character of the token is mistyped: please check it again."),
        (
            KAT_TOKEN[:3] + "\x00" + KAT_TOKEN[3:],
            "The token contains an invisible character (U+0000),",
        ),
        ("\ud800" * 25, "The token contains an invisible character (U+D800),"),
        ("x" * 5000, "The token should have 25 characters; what you typed is far longer."),
    ],
)
def test_typo_messages(typed: str, message: str) -> None:
    with pytest.raises(TokenTypo) as info:
        normalise_token(typed)
    assert str(info.value).startswith(message)


def test_token_typo_is_a_value_error() -> None:
    assert issubclass(TokenTypo, ValueError)


@settings(max_examples=300)
@given(st.text())
def test_arbitrary_text_raises_only_token_typo(text: str) -> None:
    try:
        canonical = normalise_token(text)
    except TokenTypo as error:
        assert str(error).endswith(".")
        str(error).encode("utf-8")  # always showable, even for lone surrogates
    else:
        assert len(canonical) == 25 and set(canonical) <= set(ALPHABET)


@given(st.text(alphabet=ALPHABET + "ILOUilou -", max_size=40))
def test_token_like_text_raises_only_token_typo(text: str) -> None:
    try:
        normalise_token(text)
    except TokenTypo:
        pass


@pytest.mark.parametrize("bad", ["", KAT_DISPLAY, KAT_TOKEN.lower(), KAT_TOKEN[:-1] + "0"])
def test_functions_taking_a_canonical_token_refuse_anything_else(bad: str) -> None:
    with pytest.raises(ValueError, match="canonical"):
        format_token(bad)
    with pytest.raises(ValueError, match="canonical"):
        token_lookup_key(PEPPER, bad)
    with pytest.raises(ValueError, match="canonical"):
        reporter_key(bad, bytes(16))


def test_lookup_key_known_answer() -> None:
    expected = "4e7b3628d4243a4fe1e7d2d4858547d902f0cf4d26dd48ae6d8864fbc8d2e8e6"
    assert token_lookup_key(PEPPER, KAT_TOKEN).hex() == expected
    message = b"\x01\x00\x00\x00\x19quietline/token-lookup/v1\x00\x00\x00\x19" + KAT_TOKEN.encode()
    assert hmac.new(PEPPER, message, hashlib.sha256).hexdigest() == expected


def test_pepper_check_known_answer_and_it_tells_peppers_apart() -> None:
    expected = "aa23834031f27e12c2f91441999468970a225d2e49bebaa0c5737e336553ff64"
    assert pepper_check(PEPPER).hex() == expected
    message = b"\x01\x00\x00\x00\x19quietline/pepper-check/v1"
    assert hmac.new(PEPPER, message, hashlib.sha256).hexdigest() == expected
    assert pepper_check(PEPPER[:-1] + b"\xff") != pepper_check(PEPPER)
    with pytest.raises(ValueError, match="at least"):
        pepper_check(PEPPER[:8])


@given(canonical_strategy)
def test_lookup_key_is_stable_and_depends_on_pepper_and_token(canonical: str) -> None:
    key = token_lookup_key(PEPPER, canonical)
    assert len(key) == 32
    assert token_lookup_key(PEPPER, canonical) == key
    assert token_lookup_key(bytes(32), canonical) != key
    assert token_lookup_key(PEPPER[:-1] + b"\xff", canonical) != key
    if canonical != KAT_TOKEN:
        assert token_lookup_key(PEPPER, KAT_TOKEN) != key


@pytest.mark.parametrize("pepper", [b"", bytes(16), bytes(31)])
def test_short_pepper_is_refused(pepper: bytes) -> None:
    with pytest.raises(ValueError, match="pepper"):
        token_lookup_key(pepper, KAT_TOKEN)


def test_reporter_key_known_answer() -> None:
    expected = "ab77e2a9b448fbcac4edc88025dc4d6de4e4bb522cd6b3305847a47f903da40e"
    assert reporter_key(KAT_TOKEN, bytes(range(16))).hex() == expected


@given(canonical=canonical_strategy, salt=st.binary(min_size=16, max_size=64))
def test_reporter_key_depends_on_salt_and_token(canonical: str, salt: bytes) -> None:
    key = reporter_key(canonical, salt)
    assert len(key) == 32
    assert reporter_key(canonical, salt) == key
    assert reporter_key(canonical, bytes(b ^ 1 for b in salt)) != key
    assert key != token_lookup_key(PEPPER, canonical)
    if canonical != KAT_TOKEN:
        assert reporter_key(KAT_TOKEN, salt) != key


@pytest.mark.parametrize("salt", [b"", bytes(8), bytes(15)])
def test_short_salt_is_refused(salt: bytes) -> None:
    with pytest.raises(ValueError, match="salt"):
        reporter_key(KAT_TOKEN, salt)


def test_reporter_keypair_is_a_recipient_only_the_token_opens() -> None:
    from crypto import generate_keypair, reporter_key, reporter_keypair, seal, unseal

    token = normalise_token(new_token())
    salt = b"s" * 16
    pair = reporter_keypair(token, salt)
    assert reporter_keypair(token, salt) == pair
    assert reporter_keypair(token, b"t" * 16).public != pair.public
    assert pair.private != reporter_key(token, salt)
    sealed = seal(b"case key", pair.public, case_id="c", purpose="case-key")
    assert unseal(sealed, pair.private, case_id="c", purpose="case-key") == b"case key"
    other = reporter_keypair(normalise_token(new_token()), salt)
    assert other.public != pair.public
    assert generate_keypair().public != pair.public


def test_once_digest_known_answer_and_separate_from_the_token_lookup() -> None:
    from crypto import new_once, once_digest

    value = "AAAAAAAAAAAAAAAAAAAAAA"
    label = b"quietline/form-once/v1"
    message = b"\x01\x00\x00\x00\x16" + label + b"\x00\x00\x00\x16" + value.encode()
    assert once_digest(PEPPER, value) == hmac.new(PEPPER, message, hashlib.sha256).digest()
    # Another pepper, another digest: a copy of the table without the pepper names no value.
    assert once_digest(bytes(32), value) != once_digest(PEPPER, value)
    fresh = {new_once() for _ in range(100)}
    assert len(fresh) == 100 and all(re.fullmatch(r"[A-Za-z0-9_-]{22}", item) for item in fresh)
    with pytest.raises(ValueError):
        once_digest(PEPPER, "")
    with pytest.raises(ValueError):
        once_digest(bytes(8), value)
