"""The Starlette application: routes of every audience, middleware and error pages."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import html
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from intake import i18n
from intake.config import Settings
from intake.errors import QuietlineError, TooManyAttempts
from intake.i18n import N_
from intake.mail.worker import BackgroundWorker
from intake.operations import checkpoints, maintenance
from intake.runtime import Runtime, open_runtime
from intake.web import organisation
from intake.web.admin import identity as admin_identity
from intake.web.admin import questionnaire_pages
from intake.web.admin import routes as admin_pages
from intake.web.api import routes as api
from intake.web.errorlog import ReporterErrorLog
from intake.web.middleware import (
    BodyLimitMiddleware,
    CrossSiteRequestMiddleware,
    RateLimitMiddleware,
    SecurityHeadersMiddleware,
    StaffNetworkMiddleware,
    rate_limits_from,
)
from intake.web.organisation import IdentityMiddleware
from intake.web.reporter import routes as reporter_pages
from intake.web.staff import audit as staff_audit
from intake.web.staff import closure as staff_closure
from intake.web.staff import directory_changes, identity_custody
from intake.web.staff import operations as staff_operations
from intake.web.staff import routes as staff_pages
from intake.web.staff import search as staff_search
from intake.web.templating import render

STATIC = Path(__file__).parent / "static"
# Routes that accept attachments as multipart; their own reader enforces the upload limits.
UPLOAD_PATHS = frozenset(
    {"/report", "/status/message", "/api/v1/reports", "/api/v1/reports/messages"}
)
# Staff and admin pages and the staff API; every other request may be a reporter's.
STAFF_PATH_PREFIXES = ("/staff", "/admin", "/api/v1/staff", "/api/v1/cases", "/api/v1/stats")
logger = logging.getLogger("quietline")


def is_staff_path(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in STAFF_PATH_PREFIXES)


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_response(request: Request, status_code: int, message: str) -> Response:
    if wants_json(request):
        return JSONResponse({"error": message}, status_code=status_code)
    return render(request, "error.html", {"message": message}, status_code=status_code)


def answer_error(request: Request, exc: QuietlineError) -> Response:
    """A domain error as a page or a JSON answer, in the request's language."""
    response = error_response(request, exc.status, exc.message)
    if isinstance(exc, TooManyAttempts):
        response.headers["retry-after"] = str(exc.retry_after)
    return response


def refuse(scope: Scope, exc: QuietlineError) -> Response:
    """The answer of a middleware that refuses a request before any route runs."""
    return answer_error(Request(scope), exc)


async def quietline_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, QuietlineError)
    return answer_error(request, exc)


HTTP_MESSAGES = {
    400: N_("The request could not be read."),
    404: N_("There is no such page."),
    405: N_("This page does not accept that kind of request."),
}
# What Starlette's form parser says (the start of its English detail), and what we say instead.
FORM_REFUSALS = {
    "Too many fields": N_("Too many fields were sent. Nothing was saved."),
    "Too many files": N_("Too many files were sent. Nothing was saved."),
    "Field exceeded": N_("A field of the form is too large. Nothing was saved."),
    "Part exceeded": N_("A part of the form is too large. Nothing was saved."),
}


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (a form it cannot parse, no such route): its ``detail`` is
    English, so the answer is our sentence for what it says, in the reader's language."""
    assert isinstance(exc, HTTPException)
    message = HTTP_MESSAGES.get(exc.status_code, N_("The request could not be handled."))
    if exc.status_code == 400 and isinstance(exc.detail, str):
        message = next(
            (said for start, said in FORM_REFUSALS.items() if exc.detail.startswith(start)),
            message,
        )
    return error_response(request, exc.status_code, i18n.gettext(message))


class InternalErrorMiddleware:
    """Answers an unexpected error with a plain 500 and logs only its type (and, for staff
    requests, its path).

    Starlette's own handler would log the whole traceback, whose messages can
    quote what a person sent. An error during what may be a reporter's request
    goes to ``reporter_errors``, which writes it later without its time.
    """

    def __init__(self, app: ASGIApp, *, reporter_errors: ReporterErrorLog) -> None:
        self.app = app
        self.reporter_errors = reporter_errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if scope["type"] != "http":
                raise
            if is_staff_path(scope["path"]):
                logger.error("internal error on %s: %s", scope["path"], type(exc).__name__)
            else:
                self.reporter_errors.record(type(exc).__name__)
            if started:
                return
            message = i18n.gettext(N_("Something went wrong on our side. Please try again later."))
            response: Response
            if scope["path"].startswith("/api/"):
                response = JSONResponse({"error": message}, status_code=500)
            else:
                name = organisation.shown(scope).text("name", i18n.current_locale())
                error = i18n.gettext(N_("Error"))
                title = html.escape(f"{error} · {name or i18n.gettext(N_('Quietline'))}")
                response = HTMLResponse(
                    f"<!doctype html><title>{title}</title><p>{html.escape(message)}</p>", 500
                )
            await response(scope, receive, send)


def create_app(
    settings: Settings, *, runtime: Runtime | None = None, background: bool | None = None
) -> Starlette:
    """Build the app. The data directory must be initialised (``quietline init``).

    ``background`` runs the daily retention task; by default only when the app
    opens its own runtime (``quietline serve``), not when a caller lends it one.
    """
    run_background = runtime is None if background is None else background
    reporter_errors = ReporterErrorLog(logger)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        active = runtime or open_runtime(settings)
        app.state.runtime = active
        # The outbox worker runs beside the web service (QUIETLINE_MAIL_WORKER=false turns it
        # off where `quietline mail run` runs on its own).
        worker = BackgroundWorker(active) if active.settings.mail_worker else None
        tasks: list[asyncio.Task[None]] = []
        if run_background and settings.purge_interval_hours > 0:
            tasks.append(asyncio.create_task(maintenance.retention_loop(active)))
        if run_background:
            tasks.append(asyncio.create_task(maintenance.budget_watch_loop(active)))
            tasks.append(asyncio.create_task(maintenance.checkpoint_loop(active)))
        if runtime is None:
            # A serving process: what exists now (modules, compiled templates and statements)
            # lives as long as it does, so the garbage collector need not walk it again on every
            # full collection (about 5% of a status lookup's CPU). Not done for a lent runtime:
            # tests build many apps in one process, and frozen objects are never freed.
            gc.freeze()
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if worker is not None:
                await worker.stop()
            await checkpoints.written()  # the last checkpoints, on disk before the app stops
            if runtime is None:
                await active.close()
            reporter_errors.flush()

    return Starlette(
        routes=[
            # The API first: its requests are the busiest, and the router tries routes in order.
            Mount("/api/v1", routes=api.routes),
            *reporter_pages.routes,
            *staff_pages.routes,
            *staff_closure.routes,
            *staff_search.routes,
            *staff_operations.routes,
            *directory_changes.routes,
            *identity_custody.routes,
            *staff_audit.routes,
            *admin_pages.routes,
            *admin_identity.routes,
            *questionnaire_pages.routes,
            Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[
            # Outermost first: every answer, refusals included, gets the headers.
            Middleware(SecurityHeadersMiddleware, settings=settings),
            Middleware(i18n.LocaleMiddleware),
            # Before any page renders, refusals included: the identity every page shows.
            Middleware(IdentityMiddleware),
            Middleware(InternalErrorMiddleware, reporter_errors=reporter_errors),
            # Before the limits: a stranger's staff request is answered 404 and counts for nothing.
            Middleware(
                StaffNetworkMiddleware,
                networks=settings.staff_networks,
                header=settings.staff_address_header,
                is_staff_path=is_staff_path,
                refuse=refuse,
            ),
            Middleware(CrossSiteRequestMiddleware, refuse=refuse),
            Middleware(RateLimitMiddleware, limits=rate_limits_from(settings), refuse=refuse),
            Middleware(
                BodyLimitMiddleware,
                max_bytes=settings.max_request_bytes,
                idle_timeout=settings.body_idle_timeout,
                deadline=settings.body_deadline,
                upload_paths=UPLOAD_PATHS,
            ),
        ],
        exception_handlers={
            QuietlineError: quietline_error,
            HTTPException: http_error,
        },
        lifespan=lifespan,
    )
