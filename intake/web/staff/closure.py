"""Concluding a case: the page that drafts the message to the reporter for the chosen outcome
(in the officer's language, the others one link away), and its form post.

Without JavaScript a draft cannot follow a choice made on the same page, so the case page asks
for the outcome first (``staff/_conclude_form.html``) and this page shows the draft for it.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from intake import i18n
from intake.accounts.sessions import SignedIn
from intake.casework import closing, workflow
from intake.casework.vocabulary import Outcome, Stage
from intake.errors import InvalidInput, QuietlineError
from intake.runtime import runtime_of
from intake.web.staff.routes import read_form, see_other, signed_in_page, text
from intake.web.staff_auth import current_staff
from intake.web.templating import render

FIELDS = ("outcome", "reason", "message", "no_message_reason")


def _outcome(value: str | None) -> Outcome | None:
    try:
        return Outcome(value or "")
    except ValueError:
        return None


def _draft_locale(request: Request) -> str:
    """The language of the draft: the one asked for (``?draft=fr-CA``), else the page's."""
    asked = i18n.from_tag(request.query_params.get("draft", ""))
    return asked or i18n.current_locale()


async def _page(
    request: Request,
    signed_in: SignedIn,
    ref: str,
    *,
    entered: dict[str, str],
    error: QuietlineError | None = None,
) -> Response:
    case = await workflow.case_to_conclude(runtime_of(request), signed_in, ref)
    outcome = _outcome(entered.get("outcome"))
    draft_locale = _draft_locale(request)
    if outcome is not None and "message" not in entered:
        entered = {**entered, "message": closing.draft(outcome, draft_locale)}
    context: dict[str, Any] = {
        "me": signed_in,
        "case": case,
        "outcomes": tuple(Outcome),
        "closing": {
            "outcome": outcome,
            "draft_locale": draft_locale,
            "languages": [
                {"tag": i18n.to_tag(locale), "name": i18n.display_name(locale)}
                for locale in i18n.available_locales()
                if locale != draft_locale
            ],
        },
        "entered": entered,
        "error": error,
    }
    return render(
        request, "staff/conclude.html", context, status_code=error.status if error else 200
    )


@signed_in_page
async def conclude_form(request: Request) -> Response:
    signed_in = await current_staff(request)
    chosen = request.query_params.get("outcome", "")
    entered = {"outcome": chosen} if chosen else {}
    error = None
    if chosen:
        try:
            workflow.checked_outcome(chosen)
        except InvalidInput as problem:
            error = problem
    return await _page(request, signed_in, request.path_params["ref"], entered=entered, error=error)


@signed_in_page
async def conclude_submit(request: Request) -> Response:
    form = await read_form(request)
    signed_in = await current_staff(request, form)
    ref = request.path_params["ref"]
    entered = {name: text(form, name) for name in FIELDS}
    try:
        await workflow.change_stage(
            runtime_of(request),
            signed_in,
            ref,
            stage=Stage.CONCLUDED,
            outcome=entered["outcome"] or None,
            reason=entered["reason"],
            message=entered["message"],
            no_message_reason=entered["no_message_reason"],
        )
    except QuietlineError as error:
        if error.status == 404:
            raise
        return await _page(request, signed_in, ref, entered=entered, error=error)
    return see_other(f"/staff/cases/{ref}", done=f"stage-{Stage.CONCLUDED}")


routes = [
    Route("/staff/cases/{ref}/conclude", conclude_form, methods=["GET"]),
    Route("/staff/cases/{ref}/conclude", conclude_submit, methods=["POST"]),
]
