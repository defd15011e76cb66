"""Administration pages. Only administrators reach them; every change is a CSRF-checked form."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from intake import i18n
from intake.accounts import administration, vouching
from intake.accounts.sessions import SignedIn
from intake.attachments import budget
from intake.casework.deadline_settings import DeadlineForm
from intake.casework.vocabulary import Role
from intake.errors import InvalidInput
from intake.i18n import N_
from intake.runtime import runtime_of
from intake.storage.models import Staff
from intake.web.enrolment_qr import qr_svg
from intake.web.staff.routes import read_form, see_other, signed_in_page, text
from intake.web.staff_auth import current_staff
from intake.web.templating import render

Page = Callable[[Request], Awaitable[Response]]


async def _admin(request: Request, form: Any = None) -> SignedIn:
    signed_in = await current_staff(request, form)
    administration.require_admin(signed_in)
    return signed_in


async def _staff_context(request: Request, me: SignedIn, **extra: Any) -> dict[str, Any]:
    runtime = runtime_of(request)
    usage = await budget.usage(runtime)
    people = await administration.all_staff(runtime)
    return {
        "me": me,
        # The storage budget near its end (80% or more), for the operator's attention.
        "storage_alarms": [alarm.localized(i18n.current_locale()) for alarm in usage.alarms()],
        "people": people,
        "vouching": await vouching.vouching(runtime, people),
        "roles": tuple(Role),
        "default_group": runtime.settings.default_group,
        "done": request.query_params.get("done"),
        "entered": {},
        **extra,
    }


@signed_in_page
async def overview(request: Request) -> Response:
    me = await _admin(request)
    return render(request, "admin/staff.html", await _staff_context(request, me))


@signed_in_page
async def staff_add(request: Request) -> Response:
    form = await read_form(request)
    me = await _admin(request, form)
    entered = {
        name: text(form, name) for name in ("email", "name", "role", "group", "exclusion_label")
    }
    try:
        made = await administration.add_staff(
            runtime_of(request),
            me,
            email=entered["email"],
            name=entered["name"],
            role=entered["role"],
            group=entered["group"] or runtime_of(request).settings.default_group,
            password=text(form, "password"),
            exclusion_label=entered["exclusion_label"],
        )
    except InvalidInput as error:
        context = await _staff_context(request, me, error=error, entered=entered)
        return render(request, "admin/staff.html", context, status_code=error.status)
    return render(
        request,
        "admin/credentials.html",
        {"me": me, "made": made, "reset": False, "qr": qr_svg(made.totp_uri)},
        status_code=201,
    )


async def _person_context(request: Request, me: SignedIn, person: Staff) -> dict[str, Any]:
    found = await vouching.vouching(runtime_of(request), [person])
    return {"me": me, "person": person, "roles": tuple(Role), "vouching": found[person.id]}


@signed_in_page
async def staff_edit_form(request: Request) -> Response:
    me = await _admin(request)
    person = await administration.staff_member(runtime_of(request), request.path_params["id"])
    if person is None:
        return see_other("/admin/")
    context = await _person_context(request, me, person)
    return render(
        request, "admin/person.html", {**context, "done": request.query_params.get("done")}
    )


def person_action(
    action: Callable[[Request, SignedIn, str, Any], Awaitable[Response | str]],
) -> Page:
    @signed_in_page
    async def handle(request: Request) -> Response:
        form = await read_form(request)
        me = await _admin(request, form)
        staff_id = request.path_params["id"]
        try:
            outcome = await action(request, me, staff_id, form)
        except InvalidInput as error:
            person = await administration.staff_member(runtime_of(request), staff_id)
            if person is None:
                return see_other("/admin/")
            context = await _person_context(request, me, person)
            return render(
                request, "admin/person.html", {**context, "error": error}, status_code=error.status
            )
        if isinstance(outcome, Response):
            return outcome
        return see_other(f"/admin/staff/{staff_id}", done=outcome)

    return handle


async def _update(request: Request, me: SignedIn, staff_id: str, form: Any) -> str:
    update = await administration.update_staff(
        runtime_of(request),
        me,
        staff_id,
        name=text(form, "name"),
        role=text(form, "role"),
        group=text(form, "group"),
        exclusion_label=text(form, "exclusion_label"),
    )
    return "proposed" if update.directory_change else "saved"


async def _disable(request: Request, me: SignedIn, staff_id: str, form: Any) -> str:
    active = text(form, "active") == "yes"
    await administration.set_active(runtime_of(request), me, staff_id, active=active)
    return "enabled" if active else "disabled"


async def _reset(request: Request, me: SignedIn, staff_id: str, form: Any) -> Response:
    if text(form, "understood") != "yes":
        raise InvalidInput(
            N_(
                "Tick the box to confirm you understand that this person's old cases become "
                "unreadable to them until someone gives them access again."
            ),
            field="understood",
        )
    made = await administration.reset_staff(
        runtime_of(request), me, staff_id, password=text(form, "password")
    )
    return render(
        request,
        "admin/credentials.html",
        {"me": me, "made": made, "reset": True, "qr": qr_svg(made.totp_uri)},
    )


@signed_in_page
async def categories(request: Request) -> Response:
    me = await _admin(request)
    return render(
        request,
        "admin/categories.html",
        {
            "me": me,
            "categories": await administration.all_categories(runtime_of(request)),
            "done": request.query_params.get("done"),
            "entered": {},
        },
    )


@signed_in_page
async def categories_change(request: Request) -> Response:
    form = await read_form(request)
    me = await _admin(request, form)
    runtime = runtime_of(request)
    try:
        if text(form, "action") == "add":
            await administration.add_category(
                runtime, me, ident=text(form, "id"), label=text(form, "label")
            )
        else:
            await administration.update_category(
                runtime,
                me,
                text(form, "id"),
                label=text(form, "label"),
                active=text(form, "active") == "yes",
            )
    except InvalidInput as error:
        return render(
            request,
            "admin/categories.html",
            {
                "me": me,
                "categories": await administration.all_categories(runtime),
                "error": error,
                "entered": {"id": text(form, "id"), "label": text(form, "label")},
            },
            status_code=error.status,
        )
    return see_other("/admin/categories", done="saved")


@signed_in_page
async def groups(request: Request) -> Response:
    me = await _admin(request)
    return render(
        request,
        "admin/groups.html",
        {"me": me, "groups": await administration.groups(runtime_of(request))},
    )


def _deadline_context(rules: Any) -> dict[str, str]:
    return {
        "ack_days": str(rules.ack_days),
        "reprisal_ack_days": str(rules.reprisal_ack_days),
        "feedback_months": str(rules.feedback_months),
        "clock": rules.clock,
        "holidays": "\n".join(sorted(day.isoformat() for day in rules.holidays)),
    }


@signed_in_page
async def deadlines(request: Request) -> Response:
    me = await _admin(request)
    rules = await administration.deadlines(runtime_of(request))
    return render(
        request,
        "admin/deadlines.html",
        {"me": me, "entered": _deadline_context(rules), "done": request.query_params.get("done")},
    )


@signed_in_page
async def deadlines_change(request: Request) -> Response:
    form = await read_form(request)
    me = await _admin(request, form)
    sent = DeadlineForm(
        ack_days=text(form, "ack_days"),
        reprisal_ack_days=text(form, "reprisal_ack_days"),
        feedback_months=text(form, "feedback_months"),
        clock=text(form, "clock"),
        holidays=text(form, "holidays"),
    )
    try:
        await administration.set_deadlines(runtime_of(request), me, sent)
    except InvalidInput as error:
        return render(
            request,
            "admin/deadlines.html",
            {"me": me, "entered": sent.__dict__, "error": error},
            status_code=error.status,
        )
    return see_other("/admin/deadlines", done="saved")


routes = [
    Route("/admin/", overview, methods=["GET"]),
    Route("/admin/staff", overview, methods=["GET"]),
    Route("/admin/staff", staff_add, methods=["POST"]),
    Route("/admin/staff/{id}", staff_edit_form, methods=["GET"]),
    Route("/admin/staff/{id}", person_action(_update), methods=["POST"]),
    Route("/admin/staff/{id}/active", person_action(_disable), methods=["POST"]),
    Route("/admin/staff/{id}/reset", person_action(_reset), methods=["POST"]),
    Route("/admin/categories", categories, methods=["GET"]),
    Route("/admin/categories", categories_change, methods=["POST"]),
    Route("/admin/groups", groups, methods=["GET"]),
    Route("/admin/deadlines", deadlines, methods=["GET"]),
    Route("/admin/deadlines", deadlines_change, methods=["POST"]),
]
