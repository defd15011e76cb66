"""``GET /api/v1/audit``: the audit log for signed-in officers and administrators, as the audit
page shows it (the same filters, the same reading rules, paged the same way)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from intake.operations import audit_read
from intake.runtime import runtime_of
from intake.web import audit_labels
from intake.web.staff.audit import FILTER_FIELDS, require_reader
from intake.web.staff_auth import current_staff


async def audit_events(request: Request) -> Response:
    signed_in = await current_staff(request)
    reader = require_reader(signed_in)
    params = request.query_params
    filters = audit_read.parse_filters({name: params.get(name, "") for name in FILTER_FIELDS})
    page = await audit_read.page(
        runtime_of(request), reader, filters, after=params.get("after") or None
    )
    return JSONResponse(
        {
            "events": [audit_labels.as_record(event) for event in page.events],
            "next": page.next_cursor,
        }
    )


routes = [Route("/audit", audit_events, methods=["GET"])]
