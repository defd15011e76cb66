"""Reporter case tokens: 120 random bits, written so that people can copy them by hand.

A token is 24 data characters of Crockford base32 (``0-9`` and ``A-Z`` without ``I L O U``) and
one check character, shown in five groups of five: ``ABCDE-FGHJK-MNPQR-STVWX-YZ01C``. Reading
it back forgives case, spaces and dashes, maps the confusable letters O→0 and I/L→1, and tells a
typo apart from an unknown token.

The check character is Luhn mod N with N = 32 over the code points of the data characters. It
catches every single-character substitution and every adjacent transposition except ``0Z`` ↔
``Z0``. Its blind spots:

- the adjacent transposition ``0Z`` ↔ ``Z0`` (code points 0 and 31, the mod-32 analogue of
  Luhn's ``09`` ↔ ``90``);
- jump transpositions ``abc`` ↔ ``cba`` (never detected: both characters carry the same weight);
- these adjacent twin errors: ``00``↔``NN``, ``11``↔``PP``, ``22``↔``QQ``, ``33``↔``RR``,
  ``44``↔``SS``, ``55``↔``TT``, ``66``↔``VV``, ``77``↔``WW``, ``88``↔``XX``, ``99``↔``YY``,
  ``AA``↔``ZZ``;
- any two or more independent errors, 1 time in 32.

An undetected typo then finds no case and is reported as an unknown token; that it would name
another existing case is negligible at 120 bits.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from collections.abc import Sequence

from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crypto._encoding import encode_context, require_bytes
from crypto.errors import N_, TokenTypo
from crypto.keys import KeyPair, public_key_of

__all__ = [
    "TOKEN_BITS",
    "TOKEN_LENGTH",
    "ONCE_BYTES",
    "format_token",
    "new_once",
    "new_token",
    "once_digest",
    "normalise_token",
    "reporter_key",
    "reporter_keypair",
    "token_lookup_key",
]

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TOKEN_BITS = 120
_DATA_LENGTH = TOKEN_BITS // 5
TOKEN_LENGTH = _DATA_LENGTH + 1
_GROUP = 5
PEPPER_MIN_BYTES = 32
REPORTER_SALT_MIN_BYTES = 16
_PEPPER_CHECK_LABEL = "quietline/pepper-check/v1"
_LOOKUP_LABEL = "quietline/token-lookup/v1"
_ONCE_LABEL = "quietline/form-once/v1"
ONCE_BYTES = 16
_REPORTER_KEY_INFO = b"quietline/reporter-key/v1"
_REPORTER_KEYPAIR_INFO = b"quietline/reporter-keypair/v1"

# Separators people or word processors put in: every whitespace character (tested with
# str.isspace), every invisible formatting character (category Cf: zero-width spaces, soft
# hyphens, direction marks, which copy and paste bring along), and these dashes and dots.
# NFKC has already turned full-width forms into ASCII.
_SEPARATORS = frozenset(".-\u2010\u2011\u2012\u2013\u2014\u2015\u2212")
# Beyond this, do no per-character work on the input at all: it cannot be a token.
_MAX_INPUT = 1000

# The canonical form's characters only: upper case, no confusables.
_CANONICAL_VALUES: dict[str, int] = {char: value for value, char in enumerate(ALPHABET)}
# Either case of each character, and the Crockford confusables: O reads as 0, I and L as 1.
_VALUES: dict[str, int] = {
    char: value for value, upper in enumerate(ALPHABET) for char in (upper, upper.lower())
} | {"O": 0, "o": 0, "I": 1, "i": 1, "L": 1, "l": 1}


def new_token() -> str:
    """A fresh random token in display form."""
    data = secrets.randbits(TOKEN_BITS)
    values = [(data >> (5 * i)) & 31 for i in reversed(range(_DATA_LENGTH))]
    return format_token(_spell(values))


def normalise_token(text: str) -> str:
    """The canonical form (25 upper-case characters) of a token as a reporter typed it.

    Raises :class:`TokenTypo` with a sentence for the reporter when the text cannot be a token,
    and nothing else for any ``str``.
    """
    if len(text) > _MAX_INPUT:
        raise TokenTypo(
            N_("The token should have %(length)s characters; what you typed is far longer."),
            length=TOKEN_LENGTH,
        )
    values: list[int] = []
    # ASCII is its own NFKC form and holds no format (Cf) character: the common case, a token
    # pasted or typed as printed, skips both per-character Unicode look-ups.
    ascii_only = text.isascii()
    for char in text if ascii_only else unicodedata.normalize("NFKC", text):
        if (
            char.isspace()
            or char in _SEPARATORS
            or (not ascii_only and unicodedata.category(char) == "Cf")
        ):
            continue
        value = _VALUES.get(char)
        if value is None:
            raise _unused_character(char)
        values.append(value)
    if not values:
        raise TokenTypo(
            N_("The token should have %(length)s characters; you typed nothing."),
            length=TOKEN_LENGTH,
        )
    if len(values) != TOKEN_LENGTH:
        raise TokenTypo(
            N_("The token should have %(length)s characters; you typed %(typed)s."),
            length=TOKEN_LENGTH,
            typed=len(values),
        )
    if _check_value(values[:_DATA_LENGTH]) != values[_DATA_LENGTH]:
        raise TokenTypo(N_("A character of the token is mistyped: please check it again."))
    return "".join(ALPHABET[value] for value in values)


def format_token(canonical: str) -> str:
    """The display form, ``XXXXX-XXXXX-XXXXX-XXXXX-XXXXX``, of a canonical token."""
    _require_canonical(canonical)
    return "-".join(canonical[i : i + _GROUP] for i in range(0, TOKEN_LENGTH, _GROUP))


def token_lookup_key(pepper: bytes, canonical: str) -> bytes:
    """HMAC-SHA256 under the server pepper: what the database stores to find a case by token.

    Requires the canonical form, so that a display form passed by mistake fails loudly rather
    than producing a key that finds nothing.
    """
    require_bytes(pepper, "pepper")
    if len(pepper) < PEPPER_MIN_BYTES:
        raise ValueError(f"pepper must be at least {PEPPER_MIN_BYTES} bytes long")
    _require_canonical(canonical)
    message = encode_context(_LOOKUP_LABEL, token=canonical)
    return hmac.new(pepper, message, hashlib.sha256).digest()


def new_once() -> str:
    """A form's one-time value: 128 random bits, URL-safe base64 without padding (22
    characters). It tells a form sent twice from one sent once, and nothing else."""
    return secrets.token_urlsafe(ONCE_BYTES)


def once_digest(pepper: bytes, value: str) -> bytes:
    """HMAC-SHA256 under the server pepper, with its own label: what the database keeps of a
    form's one-time value, so that a copy of it cannot tell which value a browser sent."""
    require_bytes(pepper, "pepper")
    if len(pepper) < PEPPER_MIN_BYTES:
        raise ValueError(f"pepper must be at least {PEPPER_MIN_BYTES} bytes long")
    if not isinstance(value, str) or not value:
        raise ValueError("a one-time value must be a non-empty string")
    message = encode_context(_ONCE_LABEL, value=value)
    return hmac.new(pepper, message, hashlib.sha256).digest()


def pepper_check(pepper: bytes) -> bytes:
    """HMAC-SHA256 of a fixed label under the pepper: stored beside the cases, it tells whether
    a server holds the pepper their tokens were hashed with, and reveals nothing of the pepper.
    """
    require_bytes(pepper, "pepper")
    if len(pepper) < PEPPER_MIN_BYTES:
        raise ValueError(f"pepper must be at least {PEPPER_MIN_BYTES} bytes long")
    return hmac.new(pepper, encode_context(_PEPPER_CHECK_LABEL), hashlib.sha256).digest()


def reporter_key(canonical: str, salt: bytes) -> bytes:
    """The 32-byte key that wraps the case data key for the reporter.

    HKDF-SHA256 with the token as input key material: the token carries 120 bits, so no slow
    hash is needed. ``salt`` is the case's random salt (16 bytes or more).
    """
    require_bytes(salt, "salt")
    if len(salt) < REPORTER_SALT_MIN_BYTES:
        raise ValueError(f"salt must be at least {REPORTER_SALT_MIN_BYTES} bytes long")
    _require_canonical(canonical)
    hkdf = HKDF(SHA256(), 32, salt=salt, info=_REPORTER_KEY_INFO)
    return hkdf.derive(canonical.encode("ascii"))


def reporter_keypair(canonical: str, salt: bytes) -> KeyPair:
    """The reporter's X25519 key pair, derived from the token: the reporter as a recipient.

    The server keeps the public half, so it can seal a case's new keys to the reporter without
    the token (after a holder is removed, for instance); only the token gives the private half.
    HKDF-SHA256 as :func:`reporter_key`, with its own ``info``, so the two keys are independent.
    """
    require_bytes(salt, "salt")
    if len(salt) < REPORTER_SALT_MIN_BYTES:
        raise ValueError(f"salt must be at least {REPORTER_SALT_MIN_BYTES} bytes long")
    _require_canonical(canonical)
    hkdf = HKDF(SHA256(), 32, salt=salt, info=_REPORTER_KEYPAIR_INFO)
    private = hkdf.derive(canonical.encode("ascii"))
    return KeyPair(private=private, public=public_key_of(private))


def _spell(data: Sequence[int]) -> str:
    return "".join(ALPHABET[value] for value in data) + ALPHABET[_check_value(data)]


def _check_value(data: Sequence[int]) -> int:
    """Luhn mod 32: double every other code point from the right, starting with the last."""
    from_right = data[::-1]
    total = sum(_DOUBLED[value] for value in from_right[0::2]) + sum(from_right[1::2])
    return -total % 32


# A doubled code point's two base-32 digits added, as Luhn mod 32 counts it.
_DOUBLED = tuple((2 * value) // 32 + (2 * value) % 32 for value in range(32))


def _require_canonical(canonical: str) -> None:
    if isinstance(canonical, str) and len(canonical) == TOKEN_LENGTH:
        values = [_CANONICAL_VALUES.get(char, -1) for char in canonical]
        if -1 not in values and _check_value(values[:_DATA_LENGTH]) == values[_DATA_LENGTH]:
            return
    raise ValueError("expected a canonical token: pass it through normalise_token first")


def _unused_character(char: str) -> TokenTypo:
    if not char.isprintable():
        return TokenTypo(
            N_(
                "The token contains an invisible character (U+%(code)s), which is never used in "
                "tokens."
            ),
            code=f"{ord(char):04X}",
        )
    shown = '"\'"' if char == "'" else f"'{char}'"
    return TokenTypo(N_("The token contains %(char)s, which is never used in tokens."), char=shown)
