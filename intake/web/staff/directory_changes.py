"""The staff page "Directory changes": pending recipient-directory changes, with Approve and
Refuse buttons (plain forms, no script), for intake officers and administrators."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from intake.accounts import change_review
from intake.accounts.sessions import SignedIn
from intake.casework import directory_decisions
from intake.errors import InvalidInput, QuietlineError
from intake.i18n import N_
from intake.runtime import runtime_of
from intake.web import change_words
from intake.web.staff.routes import read_form, see_other, signed_in_page, text
from intake.web.staff_auth import current_staff
from intake.web.templating import render

PATH = "/staff/directory"


async def _context(request: Request, me: SignedIn, **extra: Any) -> dict[str, Any]:
    runtime = runtime_of(request)
    settings = runtime.settings
    async with runtime.sessions() as session:
        reviews = await change_review.pending_reviews(session, runtime, me)
    changes = [
        {
            "review": seen,
            "does": change_words.what_it_does(seen, settings),
            "signed": change_words.who_signed(seen),
            "needed": change_words.who_is_needed(seen),
        }
        for seen in reviews
    ]
    return {
        "me": me,
        "changes": changes,
        "done": request.query_params.get("done"),
        **extra,
    }


@signed_in_page
async def changes_page(request: Request) -> Response:
    me = await current_staff(request)
    return render(request, "staff/directory.html", await _context(request, me))


@signed_in_page
async def decide(request: Request) -> Response:
    form = await read_form(request)
    me = await current_staff(request, form)
    runtime = runtime_of(request)
    change_id = text(form, "change")
    try:
        decision = text(form, "decision")
        if decision == "approve":
            done = await directory_decisions.approve(runtime, me, change_id)
        elif decision == "refuse":
            await directory_decisions.refuse(runtime, me, change_id)
            done = "refused"
        else:
            raise InvalidInput(N_("Choose Approve or Refuse."), field="decision")
    except QuietlineError as error:
        context = await _context(request, me, error=error)
        return render(request, "staff/directory.html", context, status_code=error.status)
    return see_other(PATH, done=done)


routes = [
    Route(PATH, changes_page, methods=["GET"]),
    Route(PATH, decide, methods=["POST"]),
]
