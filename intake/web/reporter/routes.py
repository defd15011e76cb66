"""Reporter pages. Tokens arrive in form bodies and are never put in a URL."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import crypto
from intake import i18n
from intake.casework import identity, reporter
from intake.casework.case_files import AttachmentOutcome
from intake.errors import InvalidInput, QuietlineError
from intake.i18n import N_
from intake.runtime import runtime_of
from intake.web.reporter import guidance
from intake.web.reporter.form_reading import close, files, limits_context, read_form, text
from intake.web.reporter.report_form import report_form, report_submit
from intake.web.templating import render, templates


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


async def token_saved(request: Request) -> Response:
    """The step after the token page: the reporter confirms they saved it before leaving.

    Without the confirmation the token page is shown again, with the token it carried (a
    well-formed token only: anything else is not echoed), so the reporter can still save it.
    """
    form = await read_form(request)
    close(form)
    if text(form, "saved") != "yes":
        token = text(form, "token")
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
            "upload": limits_context(runtime),
            "attachments": attachments or [],
            "identity": confidential,
            "identity_error": identity_error,
            "confidential_available": confidential_available,
        },
        status_code=failed.status if failed else 200,
    )


async def status_show(request: Request) -> Response:
    form = await read_form(request)
    close(form)
    return await _status_page(request, text(form, "token"))


async def message_send(request: Request) -> Response:
    form = await read_form(request)
    token, body = text(form, "token"), text(form, "body")
    try:
        outcomes = await reporter.add_reporter_message(
            runtime_of(request), token, body, files=files(form)
        )
    except InvalidInput as error:
        if error.field == "token":
            raise
        return await _status_page(request, token, error=error, draft=body)
    finally:
        close(form)
    notice = i18n.gettext(N_("Your message was sent to the office."))
    return await _status_page(request, token, notice=notice, attachments=outcomes)


async def identity_give(request: Request) -> Response:
    """A reporter gives their name under seal from the status page."""
    form = await read_form(request)
    close(form)
    token = text(form, "token")
    try:
        given = identity.checked(text(form, "identity_name"), text(form, "identity_contact"))
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
    form = await read_form(request)
    close(form)
    token = text(form, "token")
    try:
        if text(form, "confirm") != "yes":
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
