"""The staff session cookie and the CSRF check, shared by the staff API and staff pages."""

from __future__ import annotations

import hmac

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from intake.accounts import sessions
from intake.config import Settings
from intake.errors import Forbidden
from intake.i18n import N_
from intake.runtime import runtime_of

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf"
CSRF_MISSING = N_(
    "This request was refused: it did not carry this session's CSRF token "
    "(the X-CSRF-Token header, or the form's hidden field). Reload the page and try again."
)


def cookie_name(settings: Settings) -> str:
    # The __Host- prefix makes browsers insist on Secure, Path=/ and no Domain.
    return "quietline_staff" if settings.development else "__Host-quietline_staff"


def set_session_cookie(response: Response, settings: Settings, value: str) -> None:
    # No max-age: the browser forgets the cookie when it closes; the server ends the session
    # after the idle timeout or the absolute lifetime in any case.
    response.set_cookie(
        cookie_name(settings),
        value,
        path="/",
        secure=not settings.development,
        httponly=True,
        samesite="strict",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        cookie_name(settings),
        path="/",
        secure=not settings.development,
        httponly=True,
        samesite="strict",
    )


def check_csrf(signed_in: sessions.SignedIn, sent: str | None) -> None:
    if not sent or not hmac.compare_digest(sent.encode(), signed_in.csrf.encode()):
        raise Forbidden(CSRF_MISSING)


async def current_staff(request: Request, form: FormData | None = None) -> sessions.SignedIn:
    """The signed-in staff member; unsafe requests must carry the session's CSRF token."""
    runtime = runtime_of(request)
    signed_in = await sessions.authenticate(
        runtime, request.cookies.get(cookie_name(runtime.settings))
    )
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER)
        if sent is None and form is not None:
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
        check_csrf(signed_in, sent)
    return signed_in
