"""Reporter pages. Tokens arrive in form bodies and are never put in a URL."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import crypto
from intake import i18n
from intake.accounts import trusted
from intake.attachments.staging import CaseKey
from intake.casework import filing, identity, reporter
from intake.casework.case_files import AttachmentOutcome
from intake.casework.vocabulary import CaseKind
from intake.errors import InvalidInput, QuietlineError
from intake.i18n import N_
from intake.runtime import Runtime, runtime_of
from intake.web.reporter import guidance
from intake.web.templating import render, templates
from intake.web.upload import Upload, UploadLimits, is_multipart, megabytes, read_upload

MAX_FORM_FIELDS = 20


async def _read_form(request: Request, case_key: CaseKey | None = None) -> FormData | Upload:
    """The form's fields; with ``multipart/form-data``, also its files, staged encrypted
    (never through ``request.form()``, which would spool files to disk in the clear)."""
    if is_multipart(request):
        upload = await read_upload(request, runtime_of(request).settings, case_key=case_key)
        values: list[str] = list(upload.fields.values())
    else:
        form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
        values = [value for value in form.values() if isinstance(value, str)]
        upload = None
    if any("\ufffd" in value for value in values):
        if upload is not None:
            upload.close()
        raise InvalidInput(N_("Some of the text could not be read. Please type it again."))
    return upload if upload is not None else form


def _text(form: FormData | Upload, name: str) -> str:
    if isinstance(form, Upload):
        return form.text(name)
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def _texts(form: FormData | Upload, name: str) -> list[str]:
    """Every value of a repeated field (a group of checkboxes)."""
    if isinstance(form, Upload):
        return form.texts(name)
    return [value for value in form.getlist(name) if isinstance(value, str)]


def _close(form: FormData | Upload) -> None:
    if isinstance(form, Upload):
        form.close()


def _files(form: FormData | Upload) -> list[Any]:
    return list(form.files) if isinstance(form, Upload) else []


def _limits_context(runtime: Runtime) -> dict[str, Any]:
    limits = UploadLimits.from_settings(runtime.settings)
    return {
        "max_files": limits.max_files,
        "max_file_size": megabytes(limits.max_file_bytes),
        "max_total_size": megabytes(limits.max_total_bytes),
    }


async def home(request: Request) -> Response:
    return render(request, "reporter/home.html", {"guide_pages": guidance.PAGES})


async def guide(request: Request) -> Response:
    """One page of the guidance read before the form: built in, or the operator's version."""
    page = guidance.BY_SLUG.get(request.path_params["slug"])
    if page is None:
        raise HTTPException(404)
    runtime = runtime_of(request)
    settings = runtime.settings
    values = await guidance.guide_values(runtime)
    position = guidance.PAGES.index(page)
    override = guidance.override_file(settings, page.slug, i18n.current_locale())
    context = {
        **values,
        "page": page,
        "guide_pages": guidance.PAGES,
        "position": position + 1,
        "previous": guidance.PAGES[position - 1] if position > 0 else None,
        "next": guidance.PAGES[position + 1] if position + 1 < len(guidance.PAGES) else None,
        "override": guidance.render_override(templates.env, override, values) if override else None,
    }
    return render(request, "reporter/guide.html", context)


async def _form_context(runtime: Runtime, **extra: Any) -> dict[str, Any]:
    async with runtime.sessions() as session:
        categories = await filing.active_categories(session)
        exclusions = await filing.exclusion_choices(session, runtime)
        state = await trusted.directory_state(session, runtime)
    return {
        "confidential_available": identity.available_in(state, runtime.settings),
        "categories": categories,
        "exclusions": exclusions,
        "readers": guidance.readers_of(runtime.settings, state),
        "max_chars": runtime.settings.max_report_chars,
        "upload": _limits_context(runtime),
        **extra,
    }


async def report_form(request: Request) -> Response:
    return render(request, "reporter/report.html", await _form_context(runtime_of(request)))


async def report_submit(request: Request) -> Response:
    runtime = runtime_of(request)
    case_key = filing.new_case_key()
    try:
        form = await _read_form(request, case_key)
    except QuietlineError as error:
        context = await _form_context(runtime, error=error)
        return render(request, "reporter/report.html", context, status_code=error.status)
    entered = {
        "category": _text(form, "category"),
        "body": _text(form, "body"),
        "involves_office": _text(form, "involves_office") == "yes",
        "excluded_staff_ids": tuple(_texts(form, "exclude")),
        "kind": CaseKind.REPRISAL if _text(form, "kind") == CaseKind.REPRISAL else CaseKind.REPORT,
        "original_token": _text(form, "original_token") or None,
    }
    given = {
        "identity_name": _text(form, "identity_name"),
        "identity_contact": _text(form, "identity_contact"),
    }
    try:
        report = filing.NewReport(
            **entered,
            identity=identity.checked(given["identity_name"], given["identity_contact"]),
        )
        filed = await filing.file_report(runtime, report, files=_files(form), case_key=case_key)
    except QuietlineError as error:
        context = await _form_context(
            runtime, error=error, entered={**entered, **given}, files_dropped=bool(_files(form))
        )
        return render(request, "reporter/report.html", context, status_code=error.status)
    finally:
        _close(form)
    return render(
        request,
        "reporter/token.html",
        {"token": filed.token, "attachments": filed.attachments},
        status_code=201,
    )


async def token_saved(request: Request) -> Response:
    """The step after the token page: the reporter confirms they saved it before leaving.

    Without the confirmation the token page is shown again, with the token it carried (a
    well-formed token only: anything else is not echoed), so the reporter can still save it.
    """
    form = await _read_form(request)
    _close(form)
    if _text(form, "saved") != "yes":
        token = _text(form, "token")
        try:
            shown = crypto.format_token(crypto.normalise_token(token))
        except crypto.TokenTypo:
            raise InvalidInput(N_("This page lost its case token. Nothing was changed.")) from None
        error = i18n.gettext(N_("Please save your token, then tick this box to confirm."))
        return render(
            request, "reporter/token.html", {"token": shown, "error": error}, status_code=422
        )
    return render(
        request, "reporter/saved.html", await guidance.deadline_values(runtime_of(request))
    )


async def status_form(request: Request) -> Response:
    return render(request, "reporter/status_form.html")


async def _status_page(
    request: Request,
    token: str,
    *,
    notice: str | None = None,
    error: QuietlineError | None = None,
    draft: str = "",
    attachments: list[AttachmentOutcome] | None = None,
    identity_error: QuietlineError | None = None,
) -> Response:
    runtime = runtime_of(request)
    try:
        found = await reporter.status_by_token(runtime, token)
    except QuietlineError as lookup_error:
        return render(
            request,
            "reporter/status_form.html",
            {"error": lookup_error, "entered": token},
            status_code=lookup_error.status,
        )
    confidential = await identity.reporter_view(runtime, token)
    confidential_available = False
    if not confidential.held:  # the form to give it later is shown only then
        async with runtime.sessions() as session:
            confidential_available = await identity.available(session, runtime)
    failed = error or identity_error
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
            "upload": _limits_context(runtime),
            "attachments": attachments or [],
            "identity": confidential,
            "identity_error": identity_error,
            "confidential_available": confidential_available,
        },
        status_code=failed.status if failed else 200,
    )


async def status_show(request: Request) -> Response:
    form = await _read_form(request)
    _close(form)
    return await _status_page(request, _text(form, "token"))


async def message_send(request: Request) -> Response:
    form = await _read_form(request)
    token, body = _text(form, "token"), _text(form, "body")
    try:
        outcomes = await reporter.add_reporter_message(
            runtime_of(request), token, body, files=_files(form)
        )
    except InvalidInput as error:
        if error.field == "token":
            raise
        return await _status_page(request, token, error=error, draft=body)
    finally:
        _close(form)
    notice = i18n.gettext(N_("Your message was sent to the office."))
    return await _status_page(request, token, notice=notice, attachments=outcomes)


async def identity_give(request: Request) -> Response:
    """A reporter gives their name under seal from the status page."""
    form = await _read_form(request)
    _close(form)
    token = _text(form, "token")
    try:
        given = identity.checked(_text(form, "identity_name"), _text(form, "identity_contact"))
        if given is None:
            raise InvalidInput(
                N_("Please write your name, or leave this form."), field="identity_name"
            )
        await identity.give_later(runtime_of(request), token, given)
    except InvalidInput as error:
        if error.field == "token":
            raise
        return await _status_page(request, token, identity_error=error)
    notice = i18n.gettext(N_("Your name was sealed for the office."))
    return await _status_page(request, token, notice=notice)


async def identity_withdraw(request: Request) -> Response:
    """A reporter asks that their name not be used: it is destroyed."""
    form = await _read_form(request)
    _close(form)
    token = _text(form, "token")
    try:
        if _text(form, "confirm") != "yes":
            raise InvalidInput(N_("Tick the box to confirm that your name should be destroyed."))
        await identity.withdraw(runtime_of(request), token)
    except InvalidInput as error:
        if error.field == "token":
            raise
        return await _status_page(request, token, identity_error=error)
    notice = i18n.gettext(N_("Your name was destroyed: nobody can open it any more."))
    return await _status_page(request, token, notice=notice)


routes = [
    Route("/", home, methods=["GET"]),
    Route("/guide/{slug}", guide, methods=["GET"]),
    Route("/report", report_form, methods=["GET"]),
    Route("/report", report_submit, methods=["POST"]),
    Route("/report/saved", token_saved, methods=["POST"]),
    Route("/status", status_form, methods=["GET"]),
    Route("/status", status_show, methods=["POST"]),
    Route("/status/message", message_send, methods=["POST"]),
    Route("/status/identity", identity_give, methods=["POST"]),
    Route("/status/identity/withdraw", identity_withdraw, methods=["POST"]),
]
