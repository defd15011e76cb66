"""The organisation's identity on every page: read once per request (from this process's short
memory, intake/accounts/organisation.py), shown by the layout, and the Content-Security-Policy
that lets exactly its accent colour and inline logo in.

The accent colour is one inline ``<style>`` element, allowed by its SHA-256 hash (and nothing
else inline); the logo is a ``data:`` image inside the page, so a reporter's page still makes no
request but its stylesheet.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from intake import i18n
from intake.accounts import organisation
from intake.accounts.organisation import Identity
from intake.i18n import N_
from intake.runtime import Runtime

BASE_POLICY = (
    "default-src 'none'; style-src 'self'{styles}; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def accent_style(accent: str) -> str:
    """The inline style that sets the accent colour (empty without one)."""
    return f":root{{--accent:{accent}}}" if accent else ""


@functools.lru_cache(maxsize=8)
def content_security_policy(accent: str) -> str:
    style = accent_style(accent)
    if not style:
        return BASE_POLICY.format(styles="")
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    return BASE_POLICY.format(styles=f" 'sha256-{digest}'")


def _runtime(scope: Scope) -> Runtime | None:
    app = scope.get("app")
    state = getattr(app, "state", None)
    return getattr(state, "runtime", None)


STATE_KEY = "organisation"


def shown(scope: Scope) -> Identity:
    """The identity this request shows: the one read for it, else the one this process last
    read (the built-in one before the app has started)."""
    found = scope.get("state", {}).get(STATE_KEY)
    if isinstance(found, Identity):
        return found
    runtime = _runtime(scope)
    return organisation.last_read(runtime) if runtime is not None else Identity()


def policy_for(scope: Scope) -> str:
    """The page's Content-Security-Policy, for the accent colour its layout carries."""
    return content_security_policy(shown(scope).accent)


class IdentityMiddleware:
    """Makes sure the identity a page shows is at most a few seconds old. A database that
    cannot be read leaves the last identity read (an error page still renders)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        runtime = _runtime(scope)
        if scope["type"] == "http" and runtime is not None:
            try:
                identity = await organisation.current(runtime)
            except Exception:  # noqa: BLE001 - the page renders with the identity last read
                identity = organisation.last_read(runtime)
            scope.setdefault("state", {})[STATE_KEY] = identity
        await self.app(scope, receive, send)


def page_identity(request: Request) -> dict[str, Any]:
    """What the layout shows of the identity, in the request's language."""
    identity = shown(request.scope)
    locale = i18n.current_locale()
    name = identity.text("name", locale)
    return {
        "org": identity,
        "org_name": name,
        "service_name": name or i18n.gettext(N_("Quietline")),
        "org_description": identity.text("description", locale),
        "org_contact": identity.text("contact", locale),
        "accent_style": accent_style(identity.accent),
        "come_back_address": identity.web_address or str(request.base_url),
    }
