"""Languages: message catalogs, the language of each request, and translated sentences.

English is the source language: every sentence is written in English in the code and the
templates, and that English text is the message id. Other languages are Babel/gettext catalogs,
``intake/locale/<locale>/LC_MESSAGES/quietline.po``; adding a catalog file adds a language. The
catalogs are compiled in memory on first use, so no compiled ``.mo`` file is ever built or kept.

The language of a request is the ``lang`` query parameter when it names an available language
(the switch on every page: it needs neither JavaScript nor a cookie), otherwise the best match
for ``Accept-Language``, otherwise English. It is held in a context variable for the duration of
the request, so that domain errors raised deep in the workflow are shown in that language.
"""

from __future__ import annotations

import gettext as gettext_module
import io
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from pathlib import Path
from urllib.parse import parse_qsl

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as babel_format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.units import format_unit
from starlette.types import ASGIApp, Receive, Scope, Send

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "quietline"
SOURCE_LOCALE = "en"
QUERY_PARAMETER = "lang"

Params = Mapping[str, object]


def N_(message: str) -> str:
    """Marks a sentence for the catalog without translating it here (translated when shown).

    Every sentence a person reads is written inside ``N_()`` (or ``_()``, ``gettext()``,
    ``ngettext()``, ``N_plural()``): that mark is what puts it in the catalog
    (:mod:`intake.devtools.catalogs`), and the test suite refuses a sentence built any other way
    (:mod:`intake.devtools.sentences`). Values go in as named ``%(name)s`` parameters.
    """
    return message


@dataclass(frozen=True)
class Plural:
    """A sentence with a singular and a plural form, chosen by a count when shown."""

    singular: str
    plural: str


def N_plural(singular: str, plural: str) -> Plural:
    """Marks a sentence with a plural form for the catalog (``%(num)s`` is the count)."""
    return Plural(singular, plural)


def catalog_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=1)
def available_locales() -> tuple[str, ...]:
    """English first, then every locale that has a catalog, as ``fr_CA``-style identifiers."""
    found = sorted(
        path.name
        for path in LOCALE_DIR.iterdir()
        if path.is_dir() and catalog_path(path.name).is_file()
    )
    return (SOURCE_LOCALE, *[name for name in found if name != SOURCE_LOCALE])


@cache
def translations(locale: str) -> gettext_module.NullTranslations:
    """The compiled catalog of ``locale`` (fuzzy entries are left out, so they show English)."""
    if locale == SOURCE_LOCALE or locale not in available_locales():
        return gettext_module.NullTranslations()
    with catalog_path(locale).open("rb") as source:
        catalog = read_po(source, locale=locale, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext_module.GNUTranslations(compiled)


def to_tag(locale: str) -> str:
    """``fr_CA`` → ``fr-CA``: the form used in URLs and the ``lang`` attribute."""
    return locale.replace("_", "-")


def from_tag(tag: str) -> str | None:
    """The available locale a language tag names exactly (any case, ``-`` or ``_``), or None."""
    wanted = tag.strip().replace("-", "_").lower()
    for locale in available_locales():
        if locale.lower() == wanted:
            return locale
    return None


def display_name(locale: str) -> str:
    """A language's name in that language, as a person who reads it would look for it."""
    try:
        parsed = Locale.parse(locale)
    except (ValueError, UnknownLocaleError):
        return to_tag(locale)
    if locale == SOURCE_LOCALE:
        return "English"
    name = parsed.get_language_name(locale) or to_tag(locale)
    return name[:1].upper() + name[1:]


def parse_accept_language(header: str) -> list[str]:
    """The tags of an ``Accept-Language`` header, most wanted first (``q=0`` dropped)."""
    weighted: list[tuple[float, int, str]] = []
    for index, item in enumerate(header.split(",")[:32]):
        tag, _, parameters = item.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*" or len(tag) > 35:
            continue
        quality = 1.0
        for parameter in parameters.split(";"):
            name, _, value = parameter.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            weighted.append((-quality, index, tag))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate(accept_language: str | None) -> str:
    """The available locale that best matches the header: an exact match (``fr-CA``), else the
    language alone (``fr`` → ``fr_CA``), in the header's order of preference; else English."""
    for tag in parse_accept_language(accept_language or ""):
        exact = from_tag(tag)
        if exact:
            return exact
        language = tag.replace("_", "-").split("-")[0].lower()
        for locale in available_locales():
            if locale.split("_")[0].lower() == language:
                return locale
    return SOURCE_LOCALE


_current: ContextVar[str] = ContextVar("quietline_locale", default=SOURCE_LOCALE)
_chosen: ContextVar[bool] = ContextVar("quietline_locale_chosen", default=False)


def current_locale() -> str:
    return _current.get()


def chosen_explicitly() -> bool:
    """True when the language came from the switch (``?lang=``), so links must carry it on."""
    return _chosen.get()


def use_locale(locale: str, *, explicit: bool = False) -> None:
    """Set the language of the current context (a request, a test, a command)."""
    _current.set(locale if locale in available_locales() else SOURCE_LOCALE)
    _chosen.set(explicit)


def format_number(value: int) -> str:
    return format_decimal(value, locale=current_locale())


def format_day(value: date) -> str:
    """A calendar day written out in the current language (``November 22, 2026``)."""
    return babel_format_date(value, format="long", locale=current_locale())


def format_size(count: int, locale: str | None = None) -> str:
    """A size in bytes as a person reads it: ``25 MB`` in English, ``25 Mo`` in French
    (whole megabytes from 1 MB up, whole kilobytes below)."""
    where = locale or current_locale()
    if count >= 1_000_000:
        return format_unit(round(count / 1_000_000), "digital-megabyte", "short", locale=where)
    return format_unit(round(count / 1000), "digital-kilobyte", "short", locale=where)


@dataclass(frozen=True)
class Size:
    """A parameter shown as a size (``%(limit)s`` → ``25 MB`` / ``25 Mo``) in the language in
    which the sentence is shown."""

    bytes: int

    def localized(self, locale: str) -> str:
        return format_size(self.bytes, locale)


@dataclass(frozen=True)
class Phrase:
    """A marked sentence used as a parameter of another one, translated along with it."""

    template: str
    params: Params | None = None

    def localized(self, locale: str) -> str:
        text = translations(locale).gettext(self.template)
        return text % _formatted(self.params, locale) if self.params else text


@dataclass(frozen=True)
class Listing:
    """Several phrases shown one after the other, separated by ``separator``."""

    items: Sequence[Phrase]
    separator: str = "; "

    def localized(self, locale: str) -> str:
        separator = self.separator
        if locale.startswith("fr") and separator.lstrip()[:1] in (";", ":"):
            separator = "\u00a0" + separator.lstrip()  # French: a non-breaking space before
        return separator.join(item.localized(locale) for item in self.items)


Localized = Size | Phrase | Listing


def _formatted(params: Params, locale: str) -> dict[str, object]:
    """Parameters as shown in ``locale``: numbers with its separators, sizes with its units."""
    shown: dict[str, object] = {}
    for name, value in params.items():
        if isinstance(value, Localized):
            shown[name] = value.localized(locale)
        elif isinstance(value, int) and not isinstance(value, bool):
            shown[name] = format_decimal(value, locale=locale)
        else:
            shown[name] = value
    return shown


def gettext(message: str, params: Params | None = None, *, locale: str | None = None) -> str:
    """``message`` in ``locale`` (by default the current language), with ``%(name)s``
    placeholders filled in."""
    locale = locale or current_locale()
    text = translations(locale).gettext(message)
    return text % _formatted(params, locale) if params else text


def ngettext(
    singular: str,
    plural: str,
    count: int,
    params: Params | None = None,
    *,
    locale: str | None = None,
) -> str:
    locale = locale or current_locale()
    text = translations(locale).ngettext(singular, plural, count)
    return text % _formatted({"num": count, **(params or {})}, locale)


def in_english(message: str, params: Params | None = None) -> str:
    """The source sentence with its placeholders filled in, whatever the current language."""
    if not params:
        return message
    return message % {
        name: value.localized(SOURCE_LOCALE) if isinstance(value, Localized) else value
        for name, value in params.items()
    }


def link(path: str) -> str:
    """A link to a page of this site that keeps the language the reporter switched to."""
    if not chosen_explicitly():
        return path
    separator = "&" if "?" in path else "?"
    return f"{path}{separator}{QUERY_PARAMETER}={to_tag(current_locale())}"


def locale_of_scope(scope: Scope) -> tuple[str, bool]:
    """The language of a request, and whether it was chosen with the switch."""
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=False):
        if name == QUERY_PARAMETER:
            chosen = from_tag(value)
            if chosen:
                return chosen, True
    headers = dict(scope.get("headers") or [])
    header = headers.get(b"accept-language", b"").decode("latin-1")
    return negotiate(header), False


class LocaleMiddleware:
    """Sets the language of each request before any route or error handler runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            locale, explicit = locale_of_scope(scope)
            use_locale(locale, explicit=explicit)
            scope.setdefault("state", {})["locale"] = locale
        await self.app(scope, receive, send)
