"""HTTP hardening shared by every route: response headers and request size limits."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from intake.errors import QuietlineError

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}


class RequestTooLarge(QuietlineError):
    status = 413


class SecurityHeadersMiddleware:
    """Adds the security headers to every response; pages are never cached."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if not is_static:
                    headers["cache-control"] = "no-store"
                if "server" in headers:
                    del headers["server"]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimitMiddleware:
    """Refuses request bodies over ``max_bytes`` before they are read in full.

    The refusal is raised from inside the endpoint's ``receive`` so the app's
    own error handlers answer it with a clear message (JSON or a page), and
    nothing has been written yet.

    Multipart requests to ``upload_paths`` are left to the upload reader
    (:mod:`intake.attachments.upload`), which enforces the attachment limits
    (files, size per file, size per report) as the body streams in, with a
    message that names the limit.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        exempt_prefixes: tuple[str, ...] = (),
        upload_paths: frozenset[str] = frozenset(),
    ):
        self.app = app
        self.max_bytes = max_bytes
        self.exempt_prefixes = exempt_prefixes
        self.upload_paths = upload_paths

    def _is_upload(self, scope: Scope) -> bool:
        if scope["path"] not in self.upload_paths or scope.get("method") != "POST":
            return False
        content_type = dict(scope["headers"]).get(b"content-type", b"")
        return content_type.split(b";")[0].strip().lower() == b"multipart/form-data"

    def _too_large(self) -> RequestTooLarge:
        return RequestTooLarge(
            f"The request is too large: the limit is {self.max_bytes // 1024:,} KB. "
            "Nothing was saved."
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"].startswith(self.exempt_prefixes)
            or self._is_upload(scope)
        ):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
                raise self._too_large()
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise self._too_large()
            return message

        await self.app(scope, limited_receive, send)
