"""HTTP hardening shared by every route: headers, cross-site refusal, limits, staff networks.

Each middleware here is pure ASGI so it works before a body is read. Refusals
raised from inside ``receive`` (size, slowness) reach the app's own error
handlers; refusals decided before the endpoint runs (cross-site, rate) are
answered through the ``refuse`` callback the app passes in, so they look like
every other error (JSON under ``/api/``, a page elsewhere).
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import time
from collections.abc import Callable, Mapping
from urllib.parse import quote, urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from intake import throttle
from intake.config import Settings
from intake.config_fields import Network
from intake.errors import Forbidden, QuietlineError, TooManyAttempts
from intake.i18n import N_, N_plural, Size
from intake.numbers import is_digits
from intake.runtime import runtime_of
from intake.web.organisation import policy_for

PERMISSIONS_POLICY = (
    "accelerometer=(), browsing-topics=(), camera=(), display-capture=(), geolocation=(), "
    "gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()"
)
# The Content-Security-Policy is added per response: pages need their own stylesheet, the
# organisation's accent colour (one inline style, by its hash) and its logo (a data: image), and
# nothing else: no script at all (intake/web/organisation.py).
SECURITY_HEADERS = {
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "permissions-policy": PERMISSIONS_POLICY,
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# refuse(scope, error) -> the response to send, in the request's language.
Refuse = Callable[[Scope, QuietlineError], Response]


class RequestTooLarge(QuietlineError):
    status = 413


class RequestTooSlow(QuietlineError):
    status = 408


def onion_location(onion: str, path: str) -> str:
    """The same page at the onion address. ``path`` is the decoded path: percent-encoding it
    again keeps the header to ASCII, so a path such as ``/%E2%82%AC`` (``/€``), or one holding a
    line break, can neither fail the answer nor add a header."""
    return f"http://{onion}{quote(path, safe='/')}"


class SecurityHeadersMiddleware:
    """Adds the security headers to every response; nothing but static files is cached.

    ``Cache-Control: no-store`` goes on every non-static response, since pages and
    API answers may show case data or a token. HSTS is sent when the operator says
    TLS terminates in front (``QUIETLINE_HSTS_MAX_AGE``); ``Onion-Location`` when an
    onion address is configured and the request did not already come through it.
    """

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.hsts = f"max-age={settings.hsts_max_age}" if settings.hsts_max_age > 0 else None
        self.onion = settings.onion_address

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_static = scope["path"].startswith("/static/")
        host = Headers(scope=scope).get("host", "").split(":")[0].lower()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("content-security-policy", policy_for(scope))
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if not is_static:
                    headers["cache-control"] = "no-store"
                if self.hsts:
                    headers["strict-transport-security"] = self.hsts
                if self.onion and host != self.onion:
                    headers["onion-location"] = onion_location(self.onion, scope["path"])
                if "server" in headers:
                    del headers["server"]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class CrossSiteRequestMiddleware:
    """Refuses state-changing requests that a browser says come from another site.

    Reporters carry no cookie, so a per-visitor CSRF token would have nothing to
    be bound to: anyone can fetch a fresh one. What tells a forged cross-site
    post apart is what the browser itself sends: ``Sec-Fetch-Site`` (every
    current browser, Tor Browser included) and, where it is not ``null``,
    ``Origin``. Our ``Referrer-Policy: no-referrer`` makes browsers send
    ``Origin: null`` on same-origin form posts, so ``null`` is accepted and
    ``Sec-Fetch-Site`` does the work. A request with neither header (curl, an old
    browser) passes: it carries no ambient credential, so forging it gains nothing
    that sending it directly would not. The JSON API is covered as well, and
    cross-site pages cannot send it ``application/json`` without a CORS preflight,
    which it never grants. Staff sessions add their own session-bound token.
    """

    def __init__(self, app: ASGIApp, *, refuse: Refuse) -> None:
        self.app = app
        self.refuse = refuse

    @staticmethod
    def is_cross_site(headers: Headers) -> bool:
        fetch_site = headers.get("sec-fetch-site", "").lower()
        if fetch_site in {"cross-site", "same-site"}:
            return True
        origin = headers.get("origin")
        if origin is None or origin == "null":
            return False
        return urlsplit(origin).netloc.lower() != headers.get("host", "").lower()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in UNSAFE_METHODS
            and self.is_cross_site(Headers(scope=scope))
        ):
            refusal = Forbidden(
                N_(
                    "This form was sent from another site, so it was refused and nothing was "
                    "saved. Open the page on this site and send it from there."
                )
            )
            response = self.refuse(scope, refusal)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class BodyLimitMiddleware:
    """Refuses request bodies over ``max_bytes`` or arriving too slowly.

    The refusal is raised from inside the endpoint's ``receive`` so the app's
    own error handlers answer it with a clear message (JSON or a page), and
    nothing has been written yet. A body whose next piece takes longer than
    ``idle_timeout`` seconds, or that is not complete within ``deadline``
    seconds, is refused with 408, so a slow client cannot hold a worker.

    Multipart requests to ``upload_paths`` are left to the upload reader
    (:mod:`intake.web.upload`), which enforces the attachment limits
    (files, size per file, size per report) as the body streams in, with a
    message that names the limit. Uploads and paths under ``exempt_prefixes``
    skip the size limit and the deadline (a large file over Tor takes a while)
    but keep the idle timeout.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        idle_timeout: float = 15.0,
        deadline: float = 120.0,
        exempt_prefixes: tuple[str, ...] = (),
        upload_paths: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.idle_timeout = idle_timeout
        self.deadline = deadline
        self.exempt_prefixes = exempt_prefixes
        self.upload_paths = upload_paths

    def _is_upload(self, scope: Scope) -> bool:
        if scope["path"] not in self.upload_paths or scope.get("method") != "POST":
            return False
        content_type = dict(scope["headers"]).get(b"content-type", b"")
        return content_type.split(b";")[0].strip().lower() == b"multipart/form-data"

    def _too_large(self) -> RequestTooLarge:
        return RequestTooLarge(
            N_("The request is too large: the limit is %(limit)s. Nothing was saved."),
            limit=Size(self.max_bytes),
        )

    @staticmethod
    def _too_slow() -> RequestTooSlow:
        return RequestTooSlow(
            N_(
                "The request arrived too slowly and was given up. Nothing was saved: "
                "please send it again."
            )
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exempt = bool(self.exempt_prefixes) and scope["path"].startswith(self.exempt_prefixes)
        exempt = exempt or self._is_upload(scope)
        declared = Headers(scope=scope).get("content-length")
        received = 0
        started = time.monotonic()

        async def limited_receive() -> Message:
            nonlocal received
            if (
                not exempt
                and declared is not None
                and is_digits(declared)
                and int(declared) > self.max_bytes
            ):
                raise self._too_large()
            wait = self.idle_timeout or None
            if not exempt and self.deadline:
                left = self.deadline - (time.monotonic() - started)
                if left <= 0:
                    raise self._too_slow()
                wait = min(wait, left) if wait else left
            try:
                async with asyncio.timeout(wait):
                    message = await receive()
            except TimeoutError:
                raise self._too_slow() from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if not exempt and received > self.max_bytes:
                    raise self._too_large()
            return message

        await self.app(scope, limited_receive, send)


# Which requests count against which limit. Matched on method and exact path.
ROUTE_CLASSES: dict[tuple[str, str], str] = {
    ("POST", "/report"): throttle.SUBMISSIONS,
    ("POST", "/api/v1/reports"): throttle.SUBMISSIONS,
    ("POST", "/status"): throttle.LOOKUPS,
    ("POST", "/status/message"): throttle.LOOKUPS,
    ("POST", "/api/v1/reports/status"): throttle.LOOKUPS,
    ("POST", "/api/v1/reports/messages"): throttle.LOOKUPS,
    ("POST", "/staff/login"): throttle.SIGNINS,
    ("POST", "/api/v1/staff/login"): throttle.SIGNINS,
}


def rate_refusal(route_class: str, seconds: int) -> TooManyAttempts:
    """The 429 of a route class whose bucket is empty, saying how long to wait."""
    if route_class == "submissions":
        return TooManyAttempts(
            N_plural(
                "Too many reports are arriving at the moment. Nothing was saved: please wait "
                "%(num)s second and try again.",
                "Too many reports are arriving at the moment. Nothing was saved: please wait "
                "%(num)s seconds and try again.",
            ),
            num=seconds,
            retry_after=seconds,
        )
    if route_class == "lookups":
        return TooManyAttempts(
            N_plural(
                "Too many case look-ups are arriving at the moment. Nothing was saved: please "
                "wait %(num)s second and try again.",
                "Too many case look-ups are arriving at the moment. Nothing was saved: please "
                "wait %(num)s seconds and try again.",
            ),
            num=seconds,
            retry_after=seconds,
        )
    return TooManyAttempts(
        N_plural(
            "Too many sign-in attempts are arriving at the moment. Nothing was saved: please "
            "wait %(num)s second and try again.",
            "Too many sign-in attempts are arriving at the moment. Nothing was saved: please "
            "wait %(num)s seconds and try again.",
        ),
        num=seconds,
        retry_after=seconds,
    )


def rate_limits_from(settings: Settings) -> dict[str, int]:
    return {
        throttle.SUBMISSIONS: settings.rate_submissions,
        throttle.LOOKUPS: settings.rate_lookups,
        throttle.SIGNINS: settings.rate_signins,
    }


class RateLimitMiddleware:
    """A global limit per route class, answering 429 with Retry-After.

    The limits are about load, not guessing: a token has 120 random bits, so
    even a billion guesses a second would take longer than the age of the
    universe to find one case. A limit shared by everyone means a flood slows
    every reporter of that route class, but it keeps the others (and staff
    work) responsive, and no address is ever looked at. The counts are the
    runtime's (``intake.throttle``): this process's memory on SQLite, the
    database on PostgreSQL, so that every process of one database draws on the
    same figure (one statement per limited request there; none on SQLite).
    """

    def __init__(self, app: ASGIApp, *, limits: Mapping[str, int], refuse: Refuse) -> None:
        self.app = app
        self.refuse = refuse
        self.limits = {name: per_minute for name, per_minute in limits.items() if per_minute > 0}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            route_class = ROUTE_CLASSES.get((scope["method"], scope["path"]))
            per_minute = self.limits.get(route_class) if route_class is not None else None
            if per_minute and route_class is not None:
                limits = runtime_of(HTTPConnection(scope)).limits
                wait = await limits.take(route_class, per_minute)
                if wait > 0:
                    seconds = max(1, math.ceil(wait))
                    response = self.refuse(scope, rate_refusal(route_class, seconds))
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


class NoSuchPage(QuietlineError):
    status = 404


# Set in the request's scope when it came from one of QUIETLINE_STAFF_NETWORKS.
ON_STAFF_NETWORK = "quietline.on_staff_network"


def on_staff_network(scope: Scope) -> bool:
    """Whether ``StaffNetworkMiddleware`` found this request on an allowed staff network."""
    return bool(scope.get(ON_STAFF_NETWORK, False))


class StaffNetworkMiddleware:
    """Staff pages and the staff API answer only from ``QUIETLINE_STAFF_NETWORKS``.

    Elsewhere they answer 404, word for word what a page that does not exist
    answers, before any limit is drawn on or any account is looked at: a
    stranger can then neither guess passwords nor lock accounts. The address is
    the connection's, or behind a proxy the one the proxy puts in
    ``QUIETLINE_STAFF_ADDRESS_HEADER`` on staff paths only (deploy/nginx); it is
    compared with the ranges and forgotten, never stored or logged. With no
    ranges set, every request passes and none counts as on a staff network.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        networks: tuple[Network, ...],
        header: str,
        is_staff_path: Callable[[str], bool],
        refuse: Refuse,
    ) -> None:
        self.app = app
        self.networks = networks
        self.header = header
        self.is_staff_path = is_staff_path
        self.refuse = refuse

    def _address(self, scope: Scope) -> str | None:
        if self.header:
            return Headers(scope=scope).get(self.header)
        client = scope.get("client")
        return str(client[0]) if client else None

    def allowed(self, scope: Scope) -> bool:
        text = self._address(scope)
        if not text:
            return False
        try:
            address = ipaddress.ip_address(text.strip())
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.networks and self.is_staff_path(scope["path"]):
            if not self.allowed(scope):
                response = self.refuse(scope, NoSuchPage(N_("There is no such page.")))
                await response(scope, receive, send)
                return
            scope[ON_STAFF_NETWORK] = True
        await self.app(scope, receive, send)
