"""The organisation's identity: whose service this is, as administrators set it.

Its name, a short description and a contact line (each in English and French), the service's
public addresses (web and onion), an accent colour and a small logo. Every page shows them in
its title and header, the token page and its printout give the address to come back to, and
every email ends with the name. They are stored as one row of the ``Setting`` table (JSON);
a change is audited with what it was before and after.

Pages read the identity on every request, so each process keeps the last one it read for a few
seconds (:data:`FRESH_FOR`): a change made in one process shows in the others within that time.
Nothing here is secret: it is what the service says about itself to everyone.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any
from urllib.parse import urlsplit

from intake.accounts import logo as logos
from intake.accounts.sessions import SignedIn
from intake.casework.vocabulary import Role
from intake.config_fields import ONION_HOST
from intake.errors import Forbidden, InvalidInput
from intake.i18n import N_, Phrase
from intake.operations import audit
from intake.per_runtime import PerRuntime
from intake.runtime import Runtime
from intake.storage import db
from intake.storage.models import Setting

KEY = "identity"
FRESH_FOR = 5.0  # seconds a process shows the identity it read before reading it again
MAX_NAME = 100
MAX_TEXT = 300
MAX_ADDRESS = 200
PAGE_BACKGROUND = "#fbfaf7"  # the pages' background (intake/web/static/quietline.css, --bg)
MIN_CONTRAST = 4.5  # WCAG 2.2 AA for text of normal size
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Identity:
    name_en: str = ""
    name_fr: str = ""
    description_en: str = ""
    description_fr: str = ""
    contact_en: str = ""
    contact_fr: str = ""
    web_address: str = ""  # https://report.example.org/
    onion_address: str = ""  # the host: <56 base32>.onion
    accent: str = ""  # #rrggbb, or "" for the built-in colour
    logo_type: str = ""  # image/png or image/jpeg
    logo: bytes = field(default=b"", repr=False)

    def text(self, name: str, locale: str) -> str:
        """``name`` ("name", "description", "contact") in the language of ``locale``, else in
        the other language, else ""."""
        english, french = getattr(self, f"{name}_en"), getattr(self, f"{name}_fr")
        first, second = (french, english) if locale.startswith("fr") else (english, french)
        return str(first or second)

    @property
    def onion_url(self) -> str:
        return f"http://{self.onion_address}/" if self.onion_address else ""

    @property
    def logo_uri(self) -> str:
        """The logo as a ``data:`` address, carried inside each page (no request of its own)."""
        if not self.logo:
            return ""
        return f"data:{self.logo_type};base64,{base64.b64encode(self.logo).decode()}"

    def stored(self) -> str:
        values = asdict(self)
        values["logo"] = base64.b64encode(self.logo).decode()
        return json.dumps(values, sort_keys=True)

    def audited(self) -> dict[str, str]:
        """What the audit log keeps of it: every text, and the logo by digest and size."""
        values: dict[str, str] = {f.name: getattr(self, f.name) for f in fields(self)[:-1]}
        if self.logo:
            digest = hashlib.sha256(self.logo).hexdigest()[:16]
            values["logo"] = f"sha256:{digest} ({len(self.logo)} bytes)"
        else:
            values["logo"] = ""
        return values


def from_stored(value: str | None) -> Identity:
    if not value:
        return Identity()
    values: dict[str, Any] = json.loads(value)
    known = {f.name for f in fields(Identity)}
    values = {name: item for name, item in values.items() if name in known}
    values["logo"] = base64.b64decode(values.get("logo", ""))
    return Identity(**values)


# --- reading, with a short per-process memory -----------------------------------------------

_read: PerRuntime[Identity] = PerRuntime(FRESH_FOR)


def _default(runtime: Runtime) -> Identity:
    return Identity(onion_address=runtime.settings.onion_address or "")


def last_read(runtime: Runtime) -> Identity:
    """The identity as this process last read it (without waiting on the database)."""
    found = _read.last(runtime)
    return found if found is not None else _default(runtime)


async def current(runtime: Runtime) -> Identity:
    """The identity in force: read again once what this process read is :data:`FRESH_FOR`
    seconds old."""
    found = _read.fresh(runtime)
    if found is not None:
        return found
    async with runtime.sessions() as session:
        stored = await session.get(Setting, KEY)
        identity = from_stored(stored.value) if stored else _default(runtime)
    _read.remember(runtime, identity)
    return identity


# --- what an administrator sends -------------------------------------------------------------


@dataclass(frozen=True)
class IdentityForm:
    name_en: str = ""
    name_fr: str = ""
    description_en: str = ""
    description_fr: str = ""
    contact_en: str = ""
    contact_fr: str = ""
    web_address: str = ""
    onion_address: str = ""
    accent: str = ""
    logo: bytes | None = None  # None: keep the logo there is
    remove_logo: bool = False


_TEXTS = (
    ("name_en", Phrase(N_("The organisation's name in English")), MAX_NAME),
    ("name_fr", Phrase(N_("The organisation's name in French")), MAX_NAME),
    ("description_en", Phrase(N_("The description in English")), MAX_TEXT),
    ("description_fr", Phrase(N_("The description in French")), MAX_TEXT),
    ("contact_en", Phrase(N_("The contact line in English")), MAX_TEXT),
    ("contact_fr", Phrase(N_("The contact line in French")), MAX_TEXT),
)


def _text(value: str, *, field: str, what: Phrase, limit: int) -> str:
    value = " ".join(value.split())
    if len(value) > limit or _CONTROL.search(value):
        raise InvalidInput(
            N_(
                "%(what)s is too long or holds characters that cannot be shown (at most %(limit)s "
                "characters)."
            ),  # fmt: skip
            field=field,
            what=what,
            limit=limit,
        )
    return value


def _web_address(value: str) -> str:
    value = value.strip()
    if not value:
        return ""
    parts = urlsplit(value)
    if (
        len(value) > MAX_ADDRESS
        or parts.scheme not in ("https", "http")
        or not parts.hostname
        or parts.username
        or parts.password
        or any(char.isspace() for char in value)
        or parts.hostname.endswith(".onion")
    ):
        raise InvalidInput(
            N_(
                "The web address must be a whole address starting with https://, such as "
                "https://report.example.org/ (the onion address has its own field)."
            ),  # fmt: skip
            field="web_address",
        )
    return value


def _onion_address(value: str) -> str:
    host = value.strip().lower().removeprefix("http://").rstrip("/")
    if host and not ONION_HOST.match(host):
        raise InvalidInput(
            N_(
                "The onion address must be a v3 onion address: 56 letters and digits followed by "
                ".onion."
            ),  # fmt: skip
            field="onion_address",
        )
    return host


def _luminance(colour: str) -> float:
    def channel(value: int) -> float:
        share = value / 255
        return share / 12.92 if share <= 0.04045 else ((share + 0.055) / 1.055) ** 2.4

    red, green, blue = (int(colour[index : index + 2], 16) for index in (1, 3, 5))
    return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)


def contrast(first: str, second: str) -> float:
    """The WCAG contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _accent(value: str) -> str:
    value = value.strip()
    if not value:
        return ""
    if not _COLOUR.fullmatch(value):
        raise InvalidInput(
            N_("Write the accent colour as # followed by six hexadecimal digits, such as #1f5f8b."),
            field="accent",
        )
    lowest = min(contrast(value, PAGE_BACKGROUND), contrast(value, "#ffffff"))
    if lowest < MIN_CONTRAST:
        raise InvalidInput(
            N_(
                "The accent colour %(colour)s is too light to read: its contrast with the page "
                "and with white text is %(ratio)s to 1, and at least 4.5 to 1 is needed. Choose a "
                "darker colour."
            ),  # fmt: skip
            field="accent",
            colour=value.lower(),
            ratio=f"{lowest:.1f}",
        )
    return value.lower()


def parse(form: IdentityForm, before: Identity) -> Identity:
    """Check what an administrator sent; InvalidInput names the first field that is wrong."""
    texts = {
        name: _text(getattr(form, name), field=name, what=what, limit=limit)
        for name, what, limit in _TEXTS
    }
    identity = Identity(
        **texts,
        web_address=_web_address(form.web_address),
        onion_address=_onion_address(form.onion_address),
        accent=_accent(form.accent),
        logo_type=before.logo_type,
        logo=before.logo,
    )
    if form.remove_logo:
        identity = replace(identity, logo=b"", logo_type="")
    elif form.logo:
        checked = logos.check(form.logo)
        identity = replace(identity, logo=checked.data, logo_type=checked.media_type)
    return identity


async def update(runtime: Runtime, admin: SignedIn, form: IdentityForm) -> Identity:
    """An administrator's change: checked, stored, audited with what changed, before and after."""
    if admin.staff.role != Role.ADMIN:
        raise Forbidden(N_("Only administrators can manage accounts and settings."))
    return await store(runtime, form, actor=admin.actor)


def form_from(identity: Identity, **changes: Any) -> IdentityForm:
    """A form holding ``identity`` as it is, with ``changes`` (the command line's options)."""
    kept = {name: getattr(identity, name) for name in IdentityForm.__dataclass_fields__
            if name not in ("logo", "remove_logo")}  # fmt: skip
    return IdentityForm(**{**kept, **changes})


async def store(runtime: Runtime, form: IdentityForm, *, actor: str) -> Identity:
    """Check and store the identity, audited (as ``actor``) with what changed, before and
    after. The command line (``quietline identity set``) calls it as ``cli``."""
    async with db.transaction(runtime.sessions) as session:
        stored = await session.get(Setting, KEY)
        before = from_stored(stored.value) if stored else _default(runtime)
        identity = parse(form, before)
        was, now = before.audited(), identity.audited()
        changed = sorted(name for name in now if now[name] != was[name])
        if stored is None:
            session.add(Setting(key=KEY, value=identity.stored()))
        else:
            stored.value = identity.stored()
            session.add(stored)
        await audit.record(
            session,
            actor=actor,
            action="admin.identity",
            detail={
                "changed": ", ".join(changed),
                "before": {name: was[name] for name in changed},
                "after": {name: now[name] for name in changed},
            },
        )
    _read.remember(runtime, identity)
    return identity
