"""The questionnaires page: administrators see the questions asked for each category and for
every category, and add, remove or move one (each change a new version, audited)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from intake.accounts import administration
from intake.accounts.sessions import SignedIn
from intake.casework import questionnaire_admin, questionnaires
from intake.casework.builtin_questions import EVERY_CATEGORY
from intake.casework.questions import KIND_NAMES, Kind
from intake.errors import InvalidInput
from intake.i18n import N_
from intake.runtime import runtime_of
from intake.web.staff.routes import read_form, see_other, signed_in_page, text
from intake.web.staff_auth import current_staff
from intake.web.templating import render

_ENTERED = ("scope", "id", "kind", "text_en", "text_fr", "help_en", "help_fr")


async def _context(request: Request, me: SignedIn, **extra: Any) -> dict[str, Any]:
    runtime = runtime_of(request)
    categories = await administration.all_categories(runtime)
    async with runtime.sessions() as session:
        current = await questionnaires.current(session)
    scopes = [(EVERY_CATEGORY, None), *((item.id, item) for item in categories)]
    return {
        "me": me,
        "scopes": [(scope, category, current.get(scope)) for scope, category in scopes],
        "kinds": [(kind.value, KIND_NAMES[kind]) for kind in Kind],
        "done": request.query_params.get("done"),
        "entered": {},
        **extra,
    }


@signed_in_page
async def questionnaires_page(request: Request) -> Response:
    me = await current_staff(request)
    administration.require_admin(me)
    return render(request, "admin/questionnaires.html", await _context(request, me))


@signed_in_page
async def questionnaires_change(request: Request) -> Response:
    form = await read_form(request)
    me = await current_staff(request, form)
    administration.require_admin(me)
    runtime = runtime_of(request)
    scope, action = text(form, "scope"), text(form, "action")
    try:
        if action == "add":
            entered = questionnaire_admin.NewQuestion(
                id=text(form, "id"),
                kind=text(form, "kind"),
                text_en=text(form, "text_en"),
                text_fr=text(form, "text_fr"),
                help_en=text(form, "help_en"),
                help_fr=text(form, "help_fr"),
                choices_en=text(form, "choices_en"),
                choices_fr=text(form, "choices_fr"),
                required=text(form, "required") == "yes",
                may_identify=text(form, "may_identify") == "yes",
                statistical=text(form, "statistical") == "yes",
            )
            await questionnaire_admin.add_question(runtime, me, scope, entered)
        elif action == "remove":
            await questionnaire_admin.remove_question(runtime, me, scope, text(form, "question"))
        elif action == "up":
            await questionnaire_admin.move_question_up(runtime, me, scope, text(form, "question"))
        else:
            raise InvalidInput(N_("This change is not one the page offers."), field="action")
    except InvalidInput as error:
        entered_values = {name: text(form, name) for name in _ENTERED}
        entered_values["choices_en"] = text(form, "choices_en")
        entered_values["choices_fr"] = text(form, "choices_fr")
        context = await _context(request, me, error=error, entered=entered_values)
        return render(request, "admin/questionnaires.html", context, status_code=error.status)
    return see_other("/admin/questionnaires", done="saved")


routes = [
    Route("/admin/questionnaires", questionnaires_page, methods=["GET"]),
    Route("/admin/questionnaires", questionnaires_change, methods=["POST"]),
]
