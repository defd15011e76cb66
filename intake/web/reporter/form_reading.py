"""Reading a reporter page's form: its text fields, and with ``multipart/form-data`` its
files, staged encrypted (never through ``request.form()``, which would spool them to disk in
the clear)."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request

from intake.attachments.staging import CaseKey
from intake.errors import InvalidInput
from intake.i18n import N_
from intake.runtime import Runtime, runtime_of
from intake.web.upload import Upload, UploadLimits, is_multipart, megabytes, read_upload

MAX_FORM_FIELDS = 60


async def read_form(request: Request, case_key: CaseKey | None = None) -> FormData | Upload:
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


def text(form: FormData | Upload, name: str) -> str:
    if isinstance(form, Upload):
        return form.text(name)
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def texts(form: FormData | Upload, name: str) -> list[str]:
    """Every value of a repeated field (a group of checkboxes)."""
    if isinstance(form, Upload):
        return form.texts(name)
    return [value for value in form.getlist(name) if isinstance(value, str)]


def close(form: FormData | Upload) -> None:
    if isinstance(form, Upload):
        form.close()


def files(form: FormData | Upload) -> list[Any]:
    return list(form.files) if isinstance(form, Upload) else []


def limits_context(runtime: Runtime) -> dict[str, Any]:
    limits = UploadLimits.from_settings(runtime.settings)
    return {
        "max_files": limits.max_files,
        "max_file_size": megabytes(limits.max_file_bytes),
        "max_total_size": megabytes(limits.max_total_bytes),
    }
