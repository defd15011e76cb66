"""Reporter pages. Tokens arrive in form bodies and are never put in a URL."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from intake import cases
from intake.errors import InvalidInput, QuietlineError
from intake.runtime import Runtime, runtime_of
from intake.templating import render

MAX_FORM_FIELDS = 20


async def _read_form(request: Request) -> FormData:
    form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    for value in form.values():
        if isinstance(value, str) and "\ufffd" in value:
            raise InvalidInput("Some of the text could not be read. Please type it again.")
    return form


def _text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


async def home(request: Request) -> Response:
    return render(request, "reporter/home.html")


async def _form_context(runtime: Runtime, **extra: Any) -> dict[str, Any]:
    async with runtime.sessions() as session:
        categories = await cases.active_categories(session)
    return {
        "categories": categories,
        "max_chars": runtime.settings.max_report_chars,
        **extra,
    }


async def report_form(request: Request) -> Response:
    return render(request, "reporter/report.html", await _form_context(runtime_of(request)))


async def report_submit(request: Request) -> Response:
    runtime = runtime_of(request)
    form = await _read_form(request)
    entered = {
        "category": _text(form, "category"),
        "body": _text(form, "body"),
        "involves_office": _text(form, "involves_office") == "yes",
    }
    try:
        token = await cases.submit_report(runtime, cases.NewReport(**entered))
    except QuietlineError as error:
        context = await _form_context(runtime, error=error, entered=entered)
        return render(request, "reporter/report.html", context, status_code=error.status)
    return render(request, "reporter/token.html", {"token": token}, status_code=201)


async def status_form(request: Request) -> Response:
    return render(request, "reporter/status_form.html")


async def _status_page(
    request: Request,
    token: str,
    *,
    notice: str | None = None,
    error: QuietlineError | None = None,
    draft: str = "",
) -> Response:
    runtime = runtime_of(request)
    try:
        found = await cases.status_by_token(runtime, token)
    except QuietlineError as lookup_error:
        return render(
            request,
            "reporter/status_form.html",
            {"error": lookup_error, "entered": token},
            status_code=lookup_error.status,
        )
    return render(
        request,
        "reporter/status.html",
        {
            "case": found,
            "token": token,
            "notice": notice,
            "error": error,
            "draft": draft,
            "max_chars": runtime.settings.max_message_chars,
        },
        status_code=error.status if error else 200,
    )


async def status_show(request: Request) -> Response:
    form = await _read_form(request)
    return await _status_page(request, _text(form, "token"))


async def message_send(request: Request) -> Response:
    form = await _read_form(request)
    token, body = _text(form, "token"), _text(form, "body")
    try:
        await cases.add_reporter_message(runtime_of(request), token, body)
    except InvalidInput as error:
        if error.field == "token":
            raise
        return await _status_page(request, token, error=error, draft=body)
    return await _status_page(request, token, notice="Your message was sent to the office.")


routes = [
    Route("/", home, methods=["GET"]),
    Route("/report", report_form, methods=["GET"]),
    Route("/report", report_submit, methods=["POST"]),
    Route("/status", status_form, methods=["GET"]),
    Route("/status", status_show, methods=["POST"]),
    Route("/status/message", message_send, methods=["POST"]),
]
