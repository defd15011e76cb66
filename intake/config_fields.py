"""How a settings field is declared, parsed and checked (the table itself is intake/config.py).

A field declared with :func:`setting` names its environment variable and its
meaning; :func:`read_fields` reads every such field of a dataclass the same
way: the text of the variable goes through the parser its type implies (or
the one the field names), then through the field's check. Every error is a
:class:`ConfigError` whose message names the variable.
"""

from __future__ import annotations

import base64
import dataclasses
import ipaddress
import re
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from intake.numbers import is_digits
from intake.secret import Secret

PREFIX = "QUIETLINE_"

Parser = Callable[[str, str], Any]
Check = Callable[[str, Any], Any]


class ConfigError(ValueError):
    """A setting has a value that cannot be used; the message names it."""


def setting(
    default: Any = dataclasses.MISSING,
    *,
    env: str,
    doc: str,
    shown: str | None = None,
    parse: Parser | None = None,
    check: Check | None = None,
    derived: Callable[[Path], str] | None = None,
    unset: str | None = None,
) -> Any:
    """A dataclass field read from ``QUIETLINE_<env>``.

    ``doc`` is its meaning and ``shown`` its default as docs/configuration.md
    says it (when the value itself does not read well). ``parse`` replaces the
    parser its type implies; ``check`` validates the parsed value; ``derived``
    gives the default from the data directory, used when the variable is unset
    or empty; ``unset`` is the text read when the variable is not set at all.
    """
    metadata = {
        "env": env,
        "doc": doc,
        "shown": shown,
        "parse": parse,
        "check": check,
        "derived": derived,
        "unset": unset,
    }
    return dataclasses.field(default=default, metadata=metadata)


def variable(field: dataclasses.Field[Any]) -> str | None:
    """The environment variable a field is read from, or None for one that is not."""
    env = field.metadata.get("env")
    return None if env is None else PREFIX + env


def read_fields(cls: type[Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """The values of ``cls``'s environment fields that ``environ`` sets, parsed and checked.

    A field left out keeps its default. A ``derived`` default is given the
    ``data_dir`` field's value, so that field comes first.
    """
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        name = variable(field)
        if name is None:
            continue
        raw = environ.get(name, field.metadata["unset"])
        derived = field.metadata["derived"]
        if derived is not None and not raw:
            raw = derived(values["data_dir"])
        if raw is None:
            continue
        parse = field.metadata["parse"] or parser_for(hints[field.name])
        value = parse(name, raw)
        check = field.metadata["check"]
        values[field.name] = value if check is None else check(name, value)
    return values


def members(hint: Any) -> tuple[Any, ...]:
    """The types of a union (``X | None``), or the one type given."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return typing.get_args(hint)
    return (hint,)


def parser_for(hint: Any) -> Parser:
    """The parser a field's type implies (a field of any other type names its own)."""
    if typing.get_origin(hint) is Literal:
        return _choice(typing.get_args(hint))
    if len(members(hint)) > 1:
        (inner,) = (arg for arg in members(hint) if arg is not type(None))
        present = parser_for(inner)
        # An empty variable is an unset one: ``QUIETLINE_SMTP_HOST=`` means no mail server.
        return lambda name, value: present(name, value) if value.strip() else None
    simple: dict[Any, Parser] = {
        bool: parse_bool,
        int: parse_int,
        float: parse_float,
        str: lambda name, value: value,
        Path: parse_path,
        Secret: lambda name, value: Secret(value),
    }
    return simple[hint]


def _choice(choices: tuple[str, ...]) -> Parser:
    quoted = [f"'{choice}'" for choice in choices]
    listed = ", ".join(quoted[:-1]) + " or " + quoted[-1]

    def parse(name: str, value: str) -> str:
        chosen = value.strip().lower()
        if chosen not in choices:
            raise ConfigError(f"{name} must be {listed}")
        return chosen

    return parse


# --- Keys written as text (the recovery and root public keys, carried by hand).


def key_as_text(key: bytes) -> str:
    """A 32-byte key to write down or carry by hand: 52 base32 characters in groups of four."""
    text = base64.b32encode(key).decode("ascii").rstrip("=")
    return "-".join(text[index : index + 4] for index in range(0, len(text), 4))


def key_from_text(text: str) -> bytes:
    """The inverse of :func:`key_as_text`, forgiving case, dashes and spaces.

    Raises ValueError (``"characters"`` or ``"length"``) for text that is not such a key.
    """
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    try:
        key = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except ValueError:
        raise ValueError("characters") from None
    if len(key) != 32:
        raise ValueError("length")
    return key


def parse_public_key(name: str, value: str) -> bytes | None:
    """A 32-byte public key written as :func:`key_as_text` writes it; empty means unset."""
    if not value.strip():
        return None
    try:
        return key_from_text(value)
    except ValueError:
        raise ConfigError(
            f"{name} must be a public key as the key ceremony prints it "
            "(52 letters and digits in groups of four)"
        ) from None


# --- Parsers: (variable, its text) -> value.


def parse_bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{name}: expected true or false, got {value!r}")


def parse_int(name: str, value: str) -> int:
    try:
        if not value.isascii():  # int() reads other scripts' digits, "٣" as 3
            raise ValueError(value)
        return int(value)
    except ValueError:
        raise ConfigError(f"{name}: expected a whole number, got {value!r}") from None


def parse_float(name: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"{name}: expected a number, got {value!r}") from None


def parse_path(name: str, value: str) -> Path:
    return Path(value).expanduser().resolve()


ONION_HOST = re.compile(r"^[a-z2-7]{56}\.onion$")


def parse_onion(name: str, value: str) -> str | None:
    """A v3 onion host name (``<56 base32>.onion``), with or without ``http://``."""
    host = value.strip().lower().removeprefix("http://").rstrip("/")
    if not host:
        return None
    if not ONION_HOST.match(host):
        raise ConfigError(
            f"{name} must be a v3 onion host name: 56 letters and digits "
            f"followed by .onion, got {value!r}"
        )
    return host


def _split_pairs(name: str, value: str, expected: str) -> list[tuple[str, str]]:
    """Split ``key=value;key=value`` into stripped pairs; both halves must be present."""
    pairs = []
    for item in value.split(";"):
        if not item.strip():
            continue
        key, sep, text = item.partition("=")
        if not sep or not key.strip() or not text.strip():
            raise ConfigError(f"{name}: expected {expected}, got {item!r}")
        pairs.append((key.strip(), text.strip()))
    return pairs


def parse_categories(name: str, value: str) -> tuple[tuple[str, str], ...]:
    """Parse ``id=Label;id=Label`` into pairs."""
    pairs = _split_pairs(name, value, "id=Label")
    if not pairs:
        raise ConfigError(f"{name}: at least one category is needed")
    return tuple(pairs)


def parse_retention(name: str, value: str) -> tuple[tuple[str, int], ...]:
    """Parse ``outcome=months;outcome=months`` into pairs (empty: nothing is deleted)."""
    expected = "outcome=months (whole months)"
    pairs = _split_pairs(name, value, expected)
    for outcome, months in pairs:
        if not is_digits(months):
            raise ConfigError(f"{name}: expected {expected}, got {outcome}={months!r}")
    return tuple((outcome, int(months)) for outcome, months in pairs)


def parse_comma_list(name: str, value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(name: str, value: str) -> tuple[Network, ...]:
    """Address ranges, comma-separated (``10.20.0.0/16, 192.0.2.7, 2001:db8::/48``)."""
    networks = []
    for item in parse_comma_list(name, value):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(
                f"{name}: expected address ranges such as 10.20.0.0/16 or 2001:db8::/48, "
                f"separated by commas, got {item!r}"
            ) from None
    return tuple(networks)


HEADER_NAME = re.compile(r"^[A-Za-z0-9-]+$")


def parse_header_name(name: str, value: str) -> str:
    """An HTTP header name (letters, digits and dashes), kept in lower case; empty for none."""
    header = value.strip().lower()
    if header and not HEADER_NAME.match(header):
        raise ConfigError(f"{name} must be a header name (letters, digits, dashes), got {value!r}")
    return header


def parse_stripped(name: str, value: str) -> str:
    return value.strip()


def parse_min_cell(name: str, value: str) -> int:
    """A count threshold of 0 or more; below 1 it is 1."""
    count = parse_int(name, value)
    non_negative(name, count)
    return max(1, count)


# --- Checks: (variable, parsed value) -> the value.


def non_negative(name: str, value: Any) -> Any:
    if value < 0:
        raise ConfigError(f"{name} must not be negative")
    return value


def positive(name: str, value: Any) -> Any:
    if value <= 0:
        raise ConfigError(f"{name} must be > 0")
    return value


def seconds_or_more(name: str, value: int) -> int:
    if value < 0:
        raise ConfigError(f"{name} must be 0 or more seconds")
    return value


def hour(name: str, value: int) -> int:
    if not 0 <= value <= 23:
        raise ConfigError(f"{name} must be an hour from 0 to 23")
    return value


def port(name: str, value: int) -> int:
    if not 0 <= value <= 65535:
        raise ConfigError(f"{name} must be a port number")
    return value


def supported_database_url(name: str, value: str) -> str:
    if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise ConfigError(f"{name} must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
    return value


def known_time_zone(name: str, value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{name}: unknown time zone {value!r}") from exc
    return value


def existing_file(name: str, value: Path | None) -> Path | None:
    if value is not None and not value.is_file():
        raise ConfigError(f"{name}: no such file {str(value)!r}")
    return value
