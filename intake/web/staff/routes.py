"""Staff pages. Plain forms, no script; every form carries the session's CSRF token.

A successful change redirects back to the page (303) with a short notice key,
so reloading never repeats it; a refused change shows the page again with the
message and what was typed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from intake import i18n
from intake.accounts import sessions
from intake.casework import access, eligibility, filing, identity_requests, routing, workflow
from intake.casework import queue as case_queue
from intake.casework import view as case_view
from intake.casework.vocabulary import CaseKind, EntryKind, Outcome, Stage
from intake.errors import InvalidInput, NotSignedIn, QuietlineError, TooManyAttempts
from intake.i18n import N_
from intake.mail.preferences import choose_notify_mode
from intake.operations import audit_read
from intake.runtime import runtime_of
from intake.web import audit_labels, download, timeline
from intake.web.middleware import on_staff_network
from intake.web.staff_auth import (
    CSRF_FIELD,
    clear_session_cookie,
    current_staff,
    set_session_cookie,
)
from intake.web.templating import render

MAX_FORM_FIELDS = 40
# The case page shows this many of the case's latest events; the audit page shows them all.
CASE_HISTORY_SIZE = 20
# The case's timeline shows every message and note, and this many of its latest changes.
TIMELINE_EVENTS = 200
Page = Callable[[Request], Awaitable[Response]]


async def read_form(request: Request) -> FormData:
    form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    for value in form.values():
        if isinstance(value, str) and "\ufffd" in value:
            raise InvalidInput(N_("Some of the text could not be read. Please type it again."))
        if isinstance(value, str) and "\x00" in value:
            raise InvalidInput(N_("Some of the text contains a character that cannot be saved."))
    return form


def text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def signed_in_page(page: Page) -> Page:
    """Show the sign-in page (401) instead of the page when the session is missing or over."""

    async def guarded(request: Request) -> Response:
        try:
            return await page(request)
        except NotSignedIn as ended:
            response = render(
                request, "staff/login.html", {"error": ended, "entered": {}}, status_code=401
            )
            clear_session_cookie(response, runtime_of(request).settings)
            return response

    return guarded


def see_other(path: str, **query: str) -> RedirectResponse:
    """Redirect after a form post; keeps the language the person switched to."""
    target = i18n.link(path + ("?" + urlencode(query) if query else ""))
    return RedirectResponse(target, status_code=303)


# --- signing in and out ----------------------------------------------------------------------


async def login_form(request: Request) -> Response:
    return render(request, "staff/login.html", {"entered": {}})


async def login_submit(request: Request) -> Response:
    runtime = runtime_of(request)
    form = await read_form(request)
    email = text(form, "email")
    try:
        opened = await sessions.sign_in(
            runtime,
            email=email,
            password=text(form, "password"),
            totp_code=text(form, "totp"),
            on_staff_network=on_staff_network(request.scope),
        )
    except QuietlineError as error:
        return render(
            request,
            "staff/login.html",
            {"error": error, "entered": {"email": email}},
            status_code=error.status,
        )
    response = see_other("/staff/")
    set_session_cookie(response, runtime.settings, opened.cookie)
    return response


@signed_in_page
async def logout(request: Request) -> Response:
    runtime = runtime_of(request)
    signed_in = await current_staff(request, await read_form(request))
    await sessions.sign_out(runtime, signed_in)
    response = render(request, "staff/login.html", {"entered": {}, "signed_out": True})
    clear_session_cookie(response, runtime.settings)
    return response


@signed_in_page
async def password_form(request: Request) -> Response:
    signed_in = await current_staff(request)
    return render(request, "staff/password.html", {"me": signed_in})


@signed_in_page
async def password_submit(request: Request) -> Response:
    form = await read_form(request)
    signed_in = await current_staff(request, form)
    new = text(form, "new")
    try:
        if new != text(form, "repeat"):
            raise InvalidInput(N_("The two new passwords are not the same."), field="repeat")
        await sessions.change_password(
            runtime_of(request), signed_in, current=text(form, "current"), new=new
        )
    except (InvalidInput, TooManyAttempts) as error:
        return render(
            request,
            "staff/password.html",
            {"me": signed_in, "error": error},
            status_code=error.status,
        )
    return see_other("/staff/", done="password")


@signed_in_page
async def notifications_form(request: Request) -> Response:
    signed_in = await current_staff(request)
    saved = request.query_params.get("done") == "notify"
    return render(request, "staff/notifications.html", {"me": signed_in, "saved": saved})


@signed_in_page
async def notifications_submit(request: Request) -> Response:
    form = await read_form(request)
    signed_in = await current_staff(request, form)
    try:
        await choose_notify_mode(
            runtime_of(request), signed_in.staff.id, text(form, "mode"), actor=signed_in.actor
        )
    except InvalidInput as error:
        return render(
            request,
            "staff/notifications.html",
            {"me": signed_in, "error": error},
            status_code=error.status,
        )
    return see_other("/staff/notifications", done="notify")


# --- the queue -------------------------------------------------------------------------------


@signed_in_page
async def queue(request: Request) -> Response:
    runtime = runtime_of(request)
    signed_in = await current_staff(request)
    params = request.query_params
    filters = case_queue.QueueFilters(
        stage=params.get("stage") or None,
        category=params.get("category") or None,
        overdue=params.get("overdue") == "yes",
        mine=params.get("mine") == "yes",
        after=params.get("after") or None,
        limit=runtime.settings.queue_page_size,
        sort=params.get("sort") or None,
    )
    error = None
    try:
        page = await case_queue.queue(runtime, signed_in, filters)
    except InvalidInput as problem:
        error, page = problem, case_queue.QueuePage(rows=[], next_cursor=None)
    async with runtime.sessions() as session:
        categories = await filing.active_categories(session)
    asked = filters.sort if filters.sort in case_queue.SORTS else None
    shown_sort = asked or ("due" if filters.overdue else "received")
    next_query = None
    if page.next_cursor:
        kept = {key: value for key, value in params.items() if key != "after" and value}
        next_query = urlencode({**kept, "after": page.next_cursor})
    return render(
        request,
        "staff/queue.html",
        {
            "me": signed_in,
            "page": page,
            "filters": filters,
            "stages": tuple(Stage),
            "categories": categories,
            "category_labels": {item.id: item.label for item in categories},
            "next_query": next_query,
            "sort": shown_sort,
            "sort_queries": _sort_queries(params, shown_sort),
            "done": params.get("done"),
            "error": error,
        },
        status_code=error.status if error else 200,
    )


QUEUE_COLUMNS = ("ref", "received", "category", "stage", "due", "assignee")


def _sort_queries(params: Any, shown: str) -> dict[str, str]:
    """For each sortable column of the queue, the query that sorts by it, filters kept; the
    column sorted by now turns the other way (newest first, oldest first)."""
    kept = {
        key: value
        for key, value in params.items()
        if key in ("stage", "category", "overdue", "mine") and value
    }
    targets = {column: column for column in QUEUE_COLUMNS}
    targets["received"] = "oldest" if shown == "received" else "received"
    return {column: urlencode({**kept, "sort": target}) for column, target in targets.items()}


# --- one case --------------------------------------------------------------------------------


async def _case_page(
    request: Request,
    signed_in: sessions.SignedIn,
    ref: str,
    *,
    error: QuietlineError | None = None,
    entered: dict[str, str] | None = None,
) -> Response:
    runtime = runtime_of(request)
    view = await case_view.view_case(runtime, signed_in, ref, with_choices=True)
    async with runtime.sessions() as session:
        categories = await filing.active_categories(session)
    reader = audit_read.Reader.of(signed_in.staff)
    history = await audit_read.case_history(runtime, reader, view.ref, limit=CASE_HISTORY_SIZE)
    identity = await identity_requests.for_holder(runtime, signed_in, view.ref)
    changes = await audit_read.case_history(
        runtime, reader, view.ref, limit=TIMELINE_EVENTS, kinds=timeline.KINDS
    )
    zone = runtime.settings.timezone
    return render(
        request,
        "staff/case.html",
        {
            "me": signed_in,
            "case": view,
            "allowed": access.allowed_actions(signed_in.staff.role),
            "group_names": {
                person.group: routing.group_display_name(runtime.settings, person.group)
                for person in (view.choices.grantable if view.choices else ())
            },
            "holders_by_id": {holder.staff_id: holder for holder in view.holders},
            "outcomes": tuple(Outcome),
            "category_labels": {item.id: item.label for item in categories},
            "done": request.query_params.get("done"),
            "error": error,
            "entered": entered or {},
            "history_rows": audit_labels.table_rows(history.events, zone),
            "history_more": history.next_cursor is not None,
            "history_full": reader.sees_group,
            "zone": zone,
            "timeline": timeline.build(view.messages, view.notes, changes.events, zone),
            "timeline_more": changes.next_cursor is not None,
            "identity": identity,
        },
        status_code=error.status if error else 200,
    )


@signed_in_page
async def case_show(request: Request) -> Response:
    signed_in = await current_staff(request)
    return await _case_page(request, signed_in, request.path_params["ref"])


case_attachment = signed_in_page(download.case_attachment)


def case_action(
    action: Callable[[Request, sessions.SignedIn, str, FormData], Awaitable[str]],
) -> Page:
    """A form post on a case: run ``action``; redirect with its notice, or show the error."""

    @signed_in_page
    async def handle(request: Request) -> Response:
        form = await read_form(request)
        signed_in = await current_staff(request, form)
        ref = request.path_params["ref"]
        try:
            done = await action(request, signed_in, ref, form)
        except (InvalidInput, QuietlineError) as error:
            if error.status == 404:
                raise
            entered = {key: text(form, key) for key in ("body", "note", "reason", "outcome")}
            return await _case_page(request, signed_in, ref, error=error, entered=entered)
        return see_other(f"/staff/cases/{ref}", done=done)

    return handle


async def _stage(request: Request, who: sessions.SignedIn, ref: str, form: FormData) -> str:
    stage = text(form, "stage")
    concluding = stage == Stage.CONCLUDED
    await workflow.change_stage(
        runtime_of(request),
        who,
        ref,
        stage=stage,
        outcome=(text(form, "outcome") or None) if concluding else None,
        reason=text(form, "reason") if concluding else None,
        message=text(form, "message") if concluding else None,
        no_message_reason=text(form, "no_message_reason") if concluding else None,
    )
    return f"stage-{stage}"


async def _message(request: Request, who: sessions.SignedIn, ref: str, form: FormData) -> str:
    await workflow.add_entry(
        runtime_of(request), who, ref, kind=EntryKind.MESSAGE, body=text(form, "body")
    )
    return "message"


async def _note(request: Request, who: sessions.SignedIn, ref: str, form: FormData) -> str:
    await workflow.add_entry(
        runtime_of(request), who, ref, kind=EntryKind.NOTE, body=text(form, "note")
    )
    return "note"


async def _assign(request: Request, who: sessions.SignedIn, ref: str, form: FormData) -> str:
    await access.assign(runtime_of(request), who, ref, text(form, "staff_id") or None)
    return "assigned"


async def _grant(request: Request, who: sessions.SignedIn, ref: str, form: FormData) -> str:
    await access.grant(runtime_of(request), who, ref, text(form, "staff_id"))
    return "granted"


async def _revoke(request: Request, who: sessions.SignedIn, ref: str, form: FormData) -> str:
    await access.revoke(runtime_of(request), who, ref, text(form, "staff_id"))
    return "revoked"


# --- staff-entered intake --------------------------------------------------------------------


async def _identity(request: Request, who: sessions.SignedIn, ref: str, form: FormData) -> str:
    await identity_requests.request(runtime_of(request), who, ref, text(form, "reason"))
    return "identity-requested"


async def _intake_context(request: Request, **extra: Any) -> dict[str, Any]:
    runtime = runtime_of(request)
    async with runtime.sessions() as session:
        categories = await filing.active_categories(session)
        exclusions = await filing.exclusion_choices(session, runtime)
    return {"categories": categories, "exclusions": exclusions, "entered": {}, **extra}


@signed_in_page
async def intake_form(request: Request) -> Response:
    signed_in = await current_staff(request)
    access.require_role(signed_in, "intake")
    return render(request, "staff/new.html", await _intake_context(request, me=signed_in))


@signed_in_page
async def intake_submit(request: Request) -> Response:
    form = await read_form(request)
    signed_in = await current_staff(request, form)
    entered = {
        name: text(form, name) for name in ("category", "body", "channel", "kind", "original_token")
    }
    involves_office = text(form, "involves_office") == "yes"
    excluded = tuple(value for value in form.getlist("exclude") if isinstance(value, str))
    try:
        filed = await filing.record_report(
            runtime_of(request),
            signed_in,
            filing.NewReport(
                category=entered["category"],
                body=entered["body"],
                involves_office=involves_office,
                excluded_staff_ids=excluded,
                kind=entered["kind"] or CaseKind.REPORT,
                original_token=entered["original_token"] or None,
            ),
            channel=entered["channel"],
        )
    except InvalidInput as error:
        context = await _intake_context(
            request,
            me=signed_in,
            error=error,
            entered={**entered, "involves_office": involves_office, "exclude": excluded},
        )
        return render(request, "staff/new.html", context, status_code=error.status)
    async with runtime_of(request).sessions() as session:
        opens = await eligibility.can_open(session, signed_in.staff.id, filed.case_id)
    return render(
        request,
        "staff/recorded.html",
        {"me": signed_in, "token": filed.token, "ref": filed.ref, "can_open": opens},
        status_code=201,
    )


routes = [
    Route("/staff/", queue, methods=["GET"]),
    Route("/staff/login", login_form, methods=["GET"]),
    Route("/staff/login", login_submit, methods=["POST"]),
    Route("/staff/logout", logout, methods=["POST"]),
    Route("/staff/password", password_form, methods=["GET"]),
    Route("/staff/password", password_submit, methods=["POST"]),
    Route("/staff/notifications", notifications_form, methods=["GET"]),
    Route("/staff/notifications", notifications_submit, methods=["POST"]),
    Route("/staff/new", intake_form, methods=["GET"]),
    Route("/staff/new", intake_submit, methods=["POST"]),
    Route("/staff/cases/{ref}", case_show, methods=["GET"]),
    Route("/staff/cases/{ref}/attachments/{attachment_id}", case_attachment, methods=["GET"]),
    Route("/staff/cases/{ref}/stage", case_action(_stage), methods=["POST"]),
    Route("/staff/cases/{ref}/messages", case_action(_message), methods=["POST"]),
    Route("/staff/cases/{ref}/notes", case_action(_note), methods=["POST"]),
    Route("/staff/cases/{ref}/assign", case_action(_assign), methods=["POST"]),
    Route("/staff/cases/{ref}/grants", case_action(_grant), methods=["POST"]),
    Route("/staff/cases/{ref}/revoke", case_action(_revoke), methods=["POST"]),
    Route("/staff/cases/{ref}/identity", case_action(_identity), methods=["POST"]),
]

__all__ = ["CSRF_FIELD", "routes"]
