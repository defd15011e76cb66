"""Staff endpoints: sign-in, the case queue, the case view and the actions on a case."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from intake.accounts import sessions
from intake.casework import access, filing, queue, view, workflow
from intake.casework.vocabulary import CaseKind, EntryKind
from intake.errors import InvalidInput
from intake.i18n import N_
from intake.mail.preferences import choose_notify_mode
from intake.numbers import is_digits
from intake.runtime import runtime_of
from intake.web.api.parsing import StrictBody, read_json
from intake.web.download import case_attachment
from intake.web.middleware import on_staff_network
from intake.web.staff_auth import clear_session_cookie, current_staff, set_session_cookie


class LoginIn(StrictBody):
    email: str
    password: str
    totp: str


class PasswordIn(StrictBody):
    current: str
    new: str


class StageIn(StrictBody):
    stage: str
    outcome: str | None = None
    reason: str | None = None
    message: str | None = None
    no_message_reason: str | None = None


class BodyIn(StrictBody):
    body: str


class StaffIdIn(StrictBody):
    staff_id: str


class AssignIn(StrictBody):
    staff_id: str | None


class NotifyIn(StrictBody):
    mode: str


class IntakeIn(StrictBody):
    category: str
    body: str
    channel: str
    kind: str = CaseKind.REPORT
    involves_office: bool = False
    exclude: list[str] = []
    original_token: str | None = None


def _day(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


async def login(request: Request) -> Response:
    runtime = runtime_of(request)
    sent = await read_json(request, LoginIn)
    opened = await sessions.sign_in(
        runtime,
        email=sent.email,
        password=sent.password,
        totp_code=sent.totp,
        on_staff_network=on_staff_network(request.scope),
    )
    response = JSONResponse({"csrf": opened.csrf})
    set_session_cookie(response, runtime.settings, opened.cookie)
    return response


async def logout(request: Request) -> Response:
    runtime = runtime_of(request)
    signed_in = await current_staff(request)
    await sessions.sign_out(runtime, signed_in)
    response = JSONResponse({"signed_out": True})
    clear_session_cookie(response, runtime.settings)
    return response


async def me(request: Request) -> Response:
    signed_in = await current_staff(request)
    staff = signed_in.staff
    return JSONResponse(
        {
            "id": staff.id,
            "email": staff.email,
            "name": staff.name,
            "role": staff.role,
            "group": staff.group_name,
            "notify": staff.notify_mode,
            "csrf": signed_in.csrf,
        }
    )


async def choose_notifications(request: Request) -> Response:
    """Immediate (delayed) notices, or the daily digest only."""
    signed_in = await current_staff(request)
    sent = await read_json(request, NotifyIn)
    person = await choose_notify_mode(
        runtime_of(request), signed_in.staff.id, sent.mode, actor=signed_in.actor
    )
    return JSONResponse({"notify": person.notify_mode})


async def change_password(request: Request) -> Response:
    signed_in = await current_staff(request)
    sent = await read_json(request, PasswordIn)
    await sessions.change_password(
        runtime_of(request), signed_in, current=sent.current, new=sent.new
    )
    return JSONResponse({"changed": True})


async def directory(request: Request) -> Response:
    await current_staff(request)
    people = await access.grantable_staff(runtime_of(request))
    return JSONResponse(
        [{"id": p.id, "name": p.name, "role": p.role, "group": p.group_name} for p in people]
    )


def _flag(request: Request, name: str) -> bool:
    value = request.query_params.get(name, "").strip().lower()
    if value in {"", "0", "false", "no"}:
        return False
    if value in {"1", "true", "yes"}:
        return True
    raise InvalidInput(N_("%(name)s must be true or false."), field=name, name=name)


def _filters(request: Request) -> queue.QueueFilters:
    params = request.query_params
    limit_text = params.get("limit", "50")
    if not is_digits(limit_text):
        raise InvalidInput(N_("limit must be a whole number between 1 and 200."), field="limit")
    return queue.QueueFilters(
        stage=params.get("stage") or None,
        category=params.get("category") or None,
        overdue=_flag(request, "overdue"),
        mine=_flag(request, "mine"),
        after=params.get("after") or None,
        limit=int(limit_text[:4]),
        sort=params.get("sort") or None,
    )


def queue_row_json(row: queue.QueueRow) -> dict[str, Any]:
    return {
        "ref": row.ref,
        "kind": row.kind,
        "channel": row.channel,
        "category": row.category,
        "stage": row.stage,
        "received_on": row.received_on.isoformat(),
        "due": {"acknowledgement": _day(row.ack_due), "feedback": _day(row.feedback_due)},
        "assignee": (
            {"id": row.assignee_id, "name": row.assignee_name} if row.assignee_id else None
        ),
        "overdue": row.overdue,
    }


async def case_list(request: Request) -> Response:
    signed_in = await current_staff(request)
    filters = _filters(request)
    page = await queue.queue(runtime_of(request), signed_in, filters)
    return JSONResponse(
        {"cases": [queue_row_json(row) for row in page.rows], "next": page.next_cursor}
    )


def _entry_json(entry: view.EntryView) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "from": entry.author,
        "staff": entry.staff_name,
        "on": entry.on.isoformat(),
        "body": entry.body,
    }


def case_json(view: view.CaseView) -> dict[str, Any]:
    return {
        "ref": view.ref,
        "kind": view.kind,
        "channel": view.channel,
        "category": view.category,
        "stage": view.stage,
        "next_stages": list(view.next_stages),
        "outcome": view.outcome,
        "outcome_reason": view.outcome_reason,
        "received_on": view.received_on.isoformat(),
        "acknowledged_on": _day(view.acknowledged_on),
        "concluded_on": _day(view.concluded_on),
        "due": {
            "acknowledgement": _day(view.ack_due) if view.acknowledged_on is None else None,
            "feedback": _day(view.feedback_due),
        },
        "overdue": view.overdue,
        "involves_office": view.involves_office,
        "assignee": view.assignee_id,
        "linked_case": view.linked_ref,
        "report": view.report,
        "answers": [
            {"question": item.question, "answer": item.answer, "may_identify": item.may_identify}
            for item in view.answers
        ],
        "messages": [_entry_json(entry) for entry in view.messages],
        "notes": [_entry_json(entry) for entry in view.notes],
        "holders": [
            {"id": h.staff_id, "name": h.name, "email": h.email, "role": h.role}
            for h in view.holders
        ],
        "attachments": [
            {
                "id": item.id,
                "name": item.name,
                "size": item.size,
                "cleaned": item.cleaned,
                "url": f"/api/v1/cases/{view.ref}/attachments/{item.id}",
            }
            for item in view.attachments
        ],
    }


async def case_show(request: Request) -> Response:
    signed_in = await current_staff(request)
    shown = await view.view_case(runtime_of(request), signed_in, request.path_params["ref"])
    return JSONResponse(case_json(shown))


async def case_record(request: Request) -> Response:
    signed_in = await current_staff(request)
    sent = await read_json(request, IntakeIn)
    filed = await filing.record_report(
        runtime_of(request),
        signed_in,
        filing.NewReport(
            category=sent.category,
            body=sent.body,
            involves_office=sent.involves_office,
            excluded_staff_ids=tuple(sent.exclude),
            kind=sent.kind,
            original_token=sent.original_token,
        ),
        channel=sent.channel,
    )
    return JSONResponse({"ref": filed.ref, "token": filed.token}, status_code=201)


async def case_stage(request: Request) -> Response:
    signed_in = await current_staff(request)
    sent = await read_json(request, StageIn)
    case = await workflow.change_stage(
        runtime_of(request),
        signed_in,
        request.path_params["ref"],
        stage=sent.stage,
        outcome=sent.outcome,
        reason=sent.reason,
        message=sent.message,
        no_message_reason=sent.no_message_reason,
    )
    return JSONResponse(
        {
            "ref": case.ref,
            "stage": case.stage,
            "outcome": case.outcome,
            "due": {
                "acknowledgement": _day(case.ack_due) if case.acknowledged_on is None else None,
                "feedback": _day(workflow.feedback_still_due(case)),
            },
        }
    )


async def _entry(request: Request, kind: EntryKind) -> Response:
    signed_in = await current_staff(request)
    sent = await read_json(request, BodyIn)
    seq = await workflow.add_entry(
        runtime_of(request), signed_in, request.path_params["ref"], kind=kind, body=sent.body
    )
    return JSONResponse({"seq": seq}, status_code=201)


async def case_message(request: Request) -> Response:
    return await _entry(request, EntryKind.MESSAGE)


async def case_note(request: Request) -> Response:
    return await _entry(request, EntryKind.NOTE)


async def case_assign(request: Request) -> Response:
    signed_in = await current_staff(request)
    sent = await read_json(request, AssignIn)
    person = await access.assign(
        runtime_of(request), signed_in, request.path_params["ref"], sent.staff_id
    )
    return JSONResponse({"assignee": person.id if person else None})


async def case_grant(request: Request) -> Response:
    signed_in = await current_staff(request)
    sent = await read_json(request, StaffIdIn)
    person = await access.grant(
        runtime_of(request), signed_in, request.path_params["ref"], sent.staff_id
    )
    return JSONResponse({"granted": person.id}, status_code=201)


async def case_revoke(request: Request) -> Response:
    signed_in = await current_staff(request)
    await access.revoke(
        runtime_of(request),
        signed_in,
        request.path_params["ref"],
        request.path_params["staff_id"],
    )
    return JSONResponse({"revoked": request.path_params["staff_id"]})


routes = [
    Route("/staff/login", login, methods=["POST"]),
    Route("/staff/logout", logout, methods=["POST"]),
    Route("/staff/me", me, methods=["GET"]),
    Route("/staff/password", change_password, methods=["POST"]),
    Route("/staff/notifications", choose_notifications, methods=["POST"]),
    Route("/staff", directory, methods=["GET"]),
    Route("/cases", case_list, methods=["GET"]),
    Route("/cases", case_record, methods=["POST"]),
    Route("/cases/{ref}", case_show, methods=["GET"]),
    Route("/cases/{ref}/attachments/{attachment_id}", case_attachment, methods=["GET"]),
    Route("/cases/{ref}/stage", case_stage, methods=["POST"]),
    Route("/cases/{ref}/messages", case_message, methods=["POST"]),
    Route("/cases/{ref}/notes", case_note, methods=["POST"]),
    Route("/cases/{ref}/assign", case_assign, methods=["POST"]),
    Route("/cases/{ref}/grants", case_grant, methods=["POST"]),
    Route("/cases/{ref}/grants/{staff_id}", case_revoke, methods=["DELETE"]),
]
