"""The identity custodians' page: officers' requests to open a confidential reporter's identity,
each with its reason, the case reference and the requester's role, and Approve and Refuse
buttons (plain forms, no script). Custodians see nothing else of any case."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from intake.accounts.sessions import SignedIn
from intake.casework import identity_requests
from intake.errors import InvalidInput, QuietlineError
from intake.i18n import N_
from intake.runtime import runtime_of
from intake.web.staff.routes import read_form, see_other, signed_in_page, text
from intake.web.staff_auth import current_staff
from intake.web.templating import render

PATH = "/staff/identity"


async def _context(request: Request, me: SignedIn, **extra: Any) -> dict[str, Any]:
    waiting = await identity_requests.waiting_for(runtime_of(request), me)
    return {"me": me, "waiting": waiting, "done": request.query_params.get("done"), **extra}


@signed_in_page
async def requests_page(request: Request) -> Response:
    me = await current_staff(request)
    return render(request, "staff/identity.html", await _context(request, me))


@signed_in_page
async def decide(request: Request) -> Response:
    form = await read_form(request)
    me = await current_staff(request, form)
    decision = text(form, "decision")
    try:
        if decision not in ("approve", "refuse"):
            raise InvalidInput(N_("Choose Approve or Refuse."), field="decision")
        await identity_requests.decide(
            runtime_of(request), me, text(form, "request"), approve=decision == "approve"
        )
    except QuietlineError as error:
        if error.status == 403:
            raise
        context = await _context(request, me, error=error)
        return render(request, "staff/identity.html", context, status_code=error.status)
    return see_other(PATH, done="approved" if decision == "approve" else "refused")


routes = [
    Route(PATH, requests_page, methods=["GET"]),
    Route(PATH, decide, methods=["POST"]),
]
