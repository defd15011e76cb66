"""The audit page: the log as its reader may see it, filtered and paged without script, and its
download (CSV or JSON, itself an audited event). Who sees what is decided in
``intake/operations/audit_read.py``; this module parses, calls and renders."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from intake.accounts import sessions
from intake.errors import Forbidden, InvalidInput
from intake.i18n import N_
from intake.operations import audit_read
from intake.runtime import runtime_of
from intake.web import audit_labels
from intake.web.labels import role_phrase
from intake.web.staff.operations import download
from intake.web.staff.routes import read_form, signed_in_page
from intake.web.staff_auth import current_staff
from intake.web.templating import render

FILTER_FIELDS = ("actor", "kind", "case", "since", "until")


def require_reader(signed_in: sessions.SignedIn) -> audit_read.Reader:
    """The signed-in person as a reader of the audit page (officers and administrators)."""
    if signed_in.staff.role not in audit_read.READER_ROLES:
        raise Forbidden(
            N_("Your role (%(role)s) cannot read the audit log."),
            role=role_phrase(signed_in.staff.role),
        )
    return audit_read.Reader.of(signed_in.staff)


@signed_in_page
async def audit_page(request: Request) -> Response:
    signed_in = await current_staff(request)
    reader = require_reader(signed_in)
    runtime = runtime_of(request)
    params = request.query_params
    entered = {name: params.get(name, "") for name in FILTER_FIELDS}
    error = None
    page = audit_read.Page(events=[], next_cursor=None)
    filters = audit_read.Filters()
    try:
        filters = audit_read.parse_filters(entered)
        page = await audit_read.page(runtime, reader, filters, after=params.get("after") or None)
    except InvalidInput as problem:
        error = problem
    next_query = None
    if page.next_cursor:
        next_query = {**filters.as_query(), "after": page.next_cursor}
    return render(
        request,
        "staff/audit.html",
        {
            "me": signed_in,
            "entered": entered,
            "filters": filters,
            "kinds": list(audit_labels.KIND_LABELS.items()),
            "rows": audit_labels.table_rows(page.events, runtime.settings.timezone),
            "zone": runtime.settings.timezone,
            "next_query": next_query,
            "paged": bool(params.get("after")),
            "error": error,
        },
        status_code=error.status if error else 200,
    )


@signed_in_page
async def audit_download(request: Request) -> Response:
    form = await read_form(request)
    signed_in = await current_staff(request, form)
    reader = require_reader(signed_in)
    values = {name: str(form.get(name, "")) for name in (*FILTER_FIELDS, "format")}
    filters = audit_read.parse_filters(values)
    chosen = values["format"]
    events = await audit_read.download(
        runtime_of(request), reader, filters, form=chosen, actor=signed_in.actor
    )
    if chosen == "csv":
        return download(audit_labels.to_csv(events), "text/csv", "quietline-audit.csv")
    return download(audit_labels.to_json(events), "application/json", "quietline-audit.json")


routes = [
    Route("/staff/audit", audit_page, methods=["GET"]),
    Route("/staff/audit/download", audit_download, methods=["POST"]),
]
