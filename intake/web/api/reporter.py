"""Reporter endpoints: the form description, filing, status and follow-up messages."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from intake import i18n
from intake.casework import filing, identity, questionnaires, reporter
from intake.casework.case_files import AttachmentOutcome
from intake.casework.questions import CHOICE_KINDS, UNKNOWN, Question
from intake.casework.vocabulary import CaseKind
from intake.errors import InvalidInput
from intake.i18n import N_
from intake.runtime import runtime_of
from intake.web.api.parsing import (
    MAX_JSON_DEPTH,
    MalformedRequest,
    Model,
    StrictBody,
    TooDeeplyNested,
    load_json,
    parse_model,
    read_json,
)
from intake.web.upload import Upload, is_multipart, read_upload


class IdentityIn(StrictBody):
    """A confidential reporter's name and a way to reach them, sealed for two people."""

    name: str
    contact: str = ""


class ReportIn(StrictBody):
    category: str
    body: str
    involves_office: bool = False
    exclude: list[str] = []
    kind: str = CaseKind.REPORT
    original_token: str | None = None
    # Sent again with the same key, a report files nothing (409): see intake/casework/once.py.
    idempotency_key: str | None = None
    # Answers to the category's questions (GET /api/v1/form), by question id.
    answers: dict[str, Any] = {}
    identity: IdentityIn | None = None


class IdentityGivenIn(StrictBody):
    token: str
    name: str
    contact: str = ""


class TokenIn(StrictBody):
    token: str


class MessageIn(StrictBody):
    token: str
    body: str


async def form(request: Request) -> Response:
    runtime = runtime_of(request)
    async with runtime.sessions() as session:
        categories = await filing.active_categories(session)
        exclusions = await filing.exclusion_choices(session, runtime)
        versions = await questionnaires.current(session)
    return JSONResponse(
        {
            "categories": [
                {
                    "id": item.id,
                    "label": item.label,
                    "questions": [
                        question_json(question)
                        for question in questionnaires.asked_for(versions, item.id).questions
                    ],
                }
                for item in categories
            ],
            "routing": {
                "involves_office": i18n.gettext(
                    N_(
                        "Choose this if the concern involves the city solicitor's office: the "
                        "report then goes to the alternate recipients instead."
                    )
                ),
                "exclude": [{"id": person.id, "label": person.label} for person in exclusions],
            },
            "kinds": {
                CaseKind.REPORT: i18n.gettext(N_("A concern about wrongdoing")),
                CaseKind.REPRISAL: i18n.gettext(
                    N_(
                        "A complaint of reprisal for having reported a concern; give the "
                        "earlier case's token (original_token) if you have it"
                    )
                ),
            },
            "limits": {
                "body_chars": runtime.settings.max_report_chars,
                "message_chars": runtime.settings.max_message_chars,
                "request_bytes": runtime.settings.max_request_bytes,
                "attachments": {
                    "files": runtime.settings.attachment_max_files,
                    "file_bytes": runtime.settings.attachment_max_file_bytes,
                    "total_bytes": runtime.settings.attachment_max_total_bytes,
                },
            },
        }
    )


def question_json(question: Question) -> dict[str, Any]:
    """A question as GET /api/v1/form describes it, in the request's language."""
    described: dict[str, Any] = {
        "id": question.id,
        "kind": str(question.kind),
        "text": question.label,
        "help": question.hint or None,
        "required": question.required,
        "may_identify": question.may_identify,
    }
    if question.kind in CHOICE_KINDS:
        described["choices"] = [
            {"id": choice.id, "label": choice.label} for choice in question.all_choices()
        ]
    else:
        described["unknown"] = UNKNOWN
    return described


def _json_part(upload: Upload, name: str, model: type[Model]) -> Model:
    """The JSON document sent as the multipart field ``name``."""
    if name not in upload.fields:
        raise MalformedRequest(
            N_("The multipart request needs a “%(name)s” part holding JSON."), name=name
        )
    try:
        data = load_json(upload.fields[name])
    except TooDeeplyNested:
        raise MalformedRequest(
            N_("The “%(name)s” part nests objects and lists more than %(limit)s levels deep."),
            name=name,
            limit=MAX_JSON_DEPTH,
        ) from None
    except ValueError as exc:
        raise MalformedRequest(N_("The “%(name)s” part is not valid JSON."), name=name) from exc
    return parse_model(model, data)


def outcomes_json(outcomes: list[AttachmentOutcome]) -> list[dict[str, Any]]:
    return [
        {
            "name": item.name,
            "size": item.size,
            "format": item.cleaning.format_text(),
            "cleaned": item.cleaning.cleaned,
            "removed": item.cleaning.removed_text(),
            "problem": item.cleaning.problem_text() or None,
            "advice": item.cleaning.advice_text() or None,
        }
        for item in outcomes
    ]


async def submit(request: Request) -> Response:
    runtime = runtime_of(request)
    upload = Upload()
    try:
        case_key = filing.new_case_key()
        if is_multipart(request):
            upload = await read_upload(request, runtime.settings, case_key=case_key)
            report = _json_part(upload, "report", ReportIn)
        else:
            report = await read_json(request, ReportIn)
        filed = await filing.file_report(
            runtime,
            filing.NewReport(
                category=report.category,
                body=report.body,
                involves_office=report.involves_office,
                excluded_staff_ids=tuple(report.exclude),
                kind=report.kind,
                original_token=report.original_token,
                once=report.idempotency_key,
                answers=report.answers,
                identity=(
                    identity.checked(report.identity.name, report.identity.contact)
                    if report.identity is not None
                    else None
                ),
            ),
            files=upload.files,
            case_key=case_key,
        )
    finally:
        upload.close()
    return JSONResponse(
        {"token": filed.token, "attachments": outcomes_json(filed.attachments)}, status_code=201
    )


async def status(request: Request) -> Response:
    query = await read_json(request, TokenIn)
    runtime = runtime_of(request)
    found = await reporter.status_by_token(runtime, query.token)
    confidential = await identity.reporter_view(runtime, query.token)
    return JSONResponse(
        {
            "stage": found.stage,
            "received_on": found.received_on.isoformat(),
            "due": {
                "acknowledgement": found.ack_due.isoformat() if found.ack_due else None,
                "feedback": found.feedback_due.isoformat() if found.feedback_due else None,
            },
            "outcome": found.outcome,
            "concluded_on": found.concluded_on.isoformat() if found.concluded_on else None,
            "messages": [
                {"from": item.sender, "body": item.body, "on": item.on.isoformat()}
                for item in found.messages
            ],
            "identity": identity_json(confidential),
        }
    )


def identity_json(view: identity.ReporterView) -> dict[str, Any]:
    """The identity's state for the reporter: given and withdrawn days, and, unless the office
    tells the reporter itself, each disclosure's role and day."""
    return {
        "given_on": view.given_on.isoformat() if view.given_on else None,
        "withdrawn_on": view.withdrawn_on.isoformat() if view.withdrawn_on else None,
        "office_tells": view.office_tells,
        "disclosures": [
            {"role": item.role, "on": item.on.isoformat()} for item in view.disclosures
        ],
    }


async def identity_give(request: Request) -> Response:
    sent = await read_json(request, IdentityGivenIn)
    given = identity.checked(sent.name, sent.contact)
    if given is None:
        raise InvalidInput(N_("Please give your name."), field="name")
    await identity.give_later(runtime_of(request), sent.token, given)
    return JSONResponse({"sealed": True}, status_code=201)


async def identity_withdraw(request: Request) -> Response:
    sent = await read_json(request, TokenIn)
    await identity.withdraw(runtime_of(request), sent.token)
    return JSONResponse({"destroyed": True})


async def message(request: Request) -> Response:
    runtime = runtime_of(request)
    upload = Upload()
    try:
        if is_multipart(request):
            upload = await read_upload(request, runtime.settings)
            sent = _json_part(upload, "message", MessageIn)
        else:
            sent = await read_json(request, MessageIn)
        outcomes = await reporter.add_reporter_message(
            runtime, sent.token, sent.body, files=upload.files
        )
    finally:
        upload.close()
    return JSONResponse({"sent": True, "attachments": outcomes_json(outcomes)}, status_code=201)


routes = [
    Route("/form", form, methods=["GET"]),
    Route("/reports", submit, methods=["POST"]),
    Route("/reports/status", status, methods=["POST"]),
    Route("/reports/messages", message, methods=["POST"]),
    Route("/reports/identity", identity_give, methods=["POST"]),
    Route("/reports/identity/withdraw", identity_withdraw, methods=["POST"]),
]
