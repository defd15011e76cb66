"""The administrators' page for the organisation's identity: name, description, contact line,
addresses, accent colour and logo (intake/accounts/organisation.py checks and stores them)."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from intake import i18n
from intake.accounts import administration, logo, organisation
from intake.accounts.organisation import Identity, IdentityForm
from intake.accounts.sessions import SignedIn
from intake.errors import InvalidInput
from intake.i18n import N_, Size
from intake.runtime import runtime_of
from intake.web.staff.routes import MAX_FORM_FIELDS, see_other, signed_in_page, text
from intake.web.staff_auth import current_staff
from intake.web.templating import render

TEXT_FIELDS = tuple(name for name in IdentityForm.__dataclass_fields__ if name not in
                    ("logo", "remove_logo"))  # fmt: skip


def _entered(identity: Identity) -> dict[str, str]:
    return {name: str(getattr(identity, name)) for name in TEXT_FIELDS}


def _context(me: SignedIn, identity: Identity, **extra: Any) -> dict[str, Any]:
    return {
        "me": me,
        "current": identity,
        "entered": _entered(identity),
        "logo_limit": Size(logo.MAX_BYTES).localized(i18n.current_locale()),
        **extra,
    }


@signed_in_page
async def identity_page(request: Request) -> Response:
    me = await current_staff(request)
    administration.require_admin(me)
    identity = await organisation.current(runtime_of(request))
    return render(
        request,
        "admin/identity.html",
        _context(me, identity, done=request.query_params.get("done")),
    )


async def _read(request: Request) -> FormData:
    form = await request.form(max_files=1, max_fields=MAX_FORM_FIELDS)
    for value in form.values():
        if isinstance(value, str) and ("\ufffd" in value or "\x00" in value):
            raise InvalidInput(N_("Some of the text could not be read. Please type it again."))
    return form


async def _uploaded_logo(form: FormData) -> bytes | None:
    sent = form.get("logo")
    if not isinstance(sent, UploadFile) or not sent.filename:
        return None
    data = await sent.read()
    if not data:
        raise InvalidInput(N_("The logo file is empty."), field="logo")
    return data


@signed_in_page
async def identity_change(request: Request) -> Response:
    form = await _read(request)
    me = await current_staff(request, form)
    administration.require_admin(me)
    runtime = runtime_of(request)
    sent = IdentityForm(
        **{name: text(form, name) for name in TEXT_FIELDS},
        remove_logo=text(form, "remove_logo") == "yes",
        logo=await _uploaded_logo(form),
    )
    try:
        await organisation.update(runtime, me, sent)
    except InvalidInput as error:
        identity = await organisation.current(runtime)
        context = _context(me, identity, error=error)
        context["entered"] = {name: getattr(sent, name) for name in TEXT_FIELDS}
        return render(request, "admin/identity.html", context, status_code=error.status)
    return see_other("/admin/identity", done="saved")


routes = [
    Route("/admin/identity", identity_page, methods=["GET"]),
    Route("/admin/identity", identity_change, methods=["POST"]),
]
