"""The report form, in two pages that work without JavaScript: the category first, then that
category's questions with the free text, files and routing choices.

Nothing is stored until the report is sent. Going back from the second page posts the form to
itself: the first page carries everything typed so far in hidden fields, and the second page
shows it again (files must be chosen again: they are not kept between pages).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from babel.dates import get_month_names
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from intake import i18n
from intake.accounts import trusted
from intake.casework import filing, identity, once, questionnaires, report_checks
from intake.casework.questionnaires import Asked
from intake.casework.questions import CHOICE_KINDS, UNKNOWN, Kind, Question
from intake.casework.vocabulary import CaseKind
from intake.errors import InvalidInput, QuietlineError
from intake.i18n import N_
from intake.runtime import Runtime, runtime_of
from intake.web.reporter import guidance
from intake.web.reporter.form_reading import close, files, limits_context, read_form, text, texts
from intake.web.templating import render
from intake.web.upload import Upload

# Fields the first page carries back to the second (everything but the category and the step).
_CARRIED = (
    "body",
    "involves_office",
    "exclude",
    "kind",
    "original_token",
    "identity_name",
    "identity_contact",
)
PERIOD_YEARS = 20


def _summary(errors: list[QuietlineError]) -> dict[str, Any]:
    """The error summary's context: every error, and each field's own message."""
    by_field: dict[str, str] = {}
    for error in errors:
        if error.field:
            by_field.setdefault(error.field, error.message)
    return {"errors": errors, "field_errors": by_field}


def _status_of(errors: list[QuietlineError]) -> int:
    return errors[0].status if len(errors) == 1 else 422


async def _context(runtime: Runtime, **extra: Any) -> dict[str, Any]:
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
        "upload": limits_context(runtime),
        "once": once.new_value(),
        "errors": [],
        "field_errors": {},
        "carried": [],
        **extra,
    }


async def report_form(request: Request) -> Response:
    """The first page: what the concern is about."""
    return render(request, "reporter/report_start.html", await _context(runtime_of(request)))


def _pairs(form: FormData | Upload) -> list[tuple[str, str]]:
    """Every text field sent, in order, repeated names included."""
    if isinstance(form, Upload):
        return [(name, value) for name, values in form.repeated.items() for value in values]
    return [(name, value) for name, value in form.multi_items() if isinstance(value, str)]


def _carried(form: FormData | Upload) -> list[tuple[str, str]]:
    return [
        (name, value)
        for name, value in _pairs(form)
        if (name in _CARRIED or name.startswith("q-")) and value
    ]


def _raw_answers(form: FormData | Upload) -> dict[str, list[str]]:
    raw: dict[str, list[str]] = {}
    for name, value in _pairs(form):
        if name.startswith("q-"):
            raw.setdefault(name, []).append(value)
    return raw


def answers_from(raw: dict[str, list[str]], asked: list[Question]) -> dict[str, Any]:
    """The answers the second page's fields give, by question id, as the API takes them."""
    answers: dict[str, Any] = {}
    for question in asked:
        name = f"q-{question.id}"
        values = [value for value in raw.get(name, []) if value != ""]
        if question.kind not in CHOICE_KINDS and raw.get(f"{name}-unknown") == ["yes"]:
            answers[question.id] = UNKNOWN
        elif question.kind == Kind.MULTIPLE:
            if values:
                answers[question.id] = values
        elif question.kind == Kind.PERIOD:
            year = (raw.get(f"{name}-year") or [""])[0]
            month = (raw.get(f"{name}-month") or [""])[0]
            if year or month:
                answers[question.id] = f"{year}-{month}" if month else year
        elif values:
            answers[question.id] = values[0]
    return answers


def _entered(form: FormData | Upload) -> dict[str, Any]:
    return {
        "category": text(form, "category"),
        "body": text(form, "body"),
        "involves_office": text(form, "involves_office") == "yes",
        "excluded_staff_ids": tuple(texts(form, "exclude")),
        "kind": CaseKind.REPRISAL if text(form, "kind") == CaseKind.REPRISAL else CaseKind.REPORT,
        "original_token": text(form, "original_token") or None,
        "identity_name": text(form, "identity_name"),
        "identity_contact": text(form, "identity_contact"),
        "raw": _raw_answers(form),
    }


def _question_page(
    request: Request, context: dict[str, Any], asked: Asked, *, status_code: int = 200
) -> Response:
    today = runtime_of(request).today()
    chosen = next(
        (item for item in context["categories"] if item.id == context["entered"]["category"]),
        None,
    )
    return render(
        request,
        "reporter/report.html",
        {
            **context,
            "chosen": chosen,
            "questions": asked.questions,
            "questionnaire": ",".join(asked.ids),
            "today": today.isoformat(),
            "years": _years(today),
            "months": _months(),
            "unknown": UNKNOWN,
        },
        status_code=status_code,
    )


def _years(today: date) -> list[int]:
    return list(range(today.year, today.year - PERIOD_YEARS, -1))


def _months() -> list[tuple[str, str]]:
    names = get_month_names("wide", locale=i18n.current_locale())
    return [(f"{number:02d}", names[number]) for number in range(1, 13)]


async def _asked(runtime: Runtime, category: str, ids: str) -> Asked:
    wanted = tuple(item for item in ids.split(",") if item)
    async with runtime.sessions() as session:
        return await questionnaires.asked_on(session, category, wanted)


async def report_submit(request: Request) -> Response:
    """Every post of the form: to the questions, back to the category, or the report sent."""
    runtime = runtime_of(request)
    case_key = filing.new_case_key()
    try:
        form = await read_form(request, case_key)
    except QuietlineError as error:
        context = await _context(runtime, **_summary([error]))
        return render(request, "reporter/report_start.html", context, status_code=error.status)
    try:
        step = text(form, "step")
        kept_once = text(form, "once") or None
        if step in ("questions", "back"):
            return await _step(request, runtime, form, step, kept_once)
        return await _send(request, runtime, form, case_key, kept_once)
    finally:
        close(form)


async def _step(
    request: Request,
    runtime: Runtime,
    form: FormData | Upload,
    step: str,
    kept_once: str | None,
) -> Response:
    entered = _entered(form)
    kept = {"once": kept_once} if kept_once else {}
    if step == "questions":
        categories = {item.id for item in (await _context(runtime))["categories"]}
        if entered["category"] in categories:
            asked = await _asked(runtime, entered["category"], "")
            context = await _context(runtime, entered=entered, **kept)
            return _question_page(request, context, asked)
        error: QuietlineError = InvalidInput(
            N_("Please choose one of the listed categories."), field="category"
        )
        errors = _summary([error])
    else:
        errors = {}
    context = await _context(
        runtime,
        entered=entered,
        carried=_carried(form),
        files_dropped=bool(files(form)),
        **errors,
        **kept,
    )
    status = 422 if errors else 200
    return render(request, "reporter/report_start.html", context, status_code=status)


async def _send(
    request: Request,
    runtime: Runtime,
    form: FormData | Upload,
    case_key: Any,
    kept_once: str | None,
) -> Response:
    entered = _entered(form)
    asked = Asked(())
    errors: list[QuietlineError] = []
    try:
        asked = await _asked(runtime, entered["category"], text(form, "questionnaire"))
    except QuietlineError as error:
        errors.append(error)
    given = None
    try:
        given = identity.checked(entered["identity_name"], entered["identity_contact"])
    except QuietlineError as error:
        errors.append(error)
    report = filing.NewReport(
        category=entered["category"],
        body=entered["body"],
        involves_office=entered["involves_office"],
        excluded_staff_ids=entered["excluded_staff_ids"],
        kind=entered["kind"],
        original_token=entered["original_token"],
        once=kept_once,
        answers=answers_from(entered["raw"], asked.questions),
        questionnaire=asked.ids,
        identity=given,
    )
    try:
        errors += await report_checks.problems(runtime, report, asked)
        if not errors:
            filed = await filing.file_report(runtime, report, files=files(form), case_key=case_key)
    except once.AlreadySent as sent:
        return render(request, "reporter/already_sent.html", status_code=sent.status)
    except QuietlineError as error:
        errors = [error]
    if not errors:
        return render(
            request,
            "reporter/token.html",
            {"token": filed.token, "attachments": filed.attachments},
            status_code=201,
        )
    # The same form again, with the same one-time value: nothing was filed with it.
    damaged = any(error.field == "once" for error in errors)
    context = await _context(
        runtime,
        **_summary(errors),
        **({"once": kept_once} if kept_once and not damaged else {}),
        entered=entered,
        files_dropped=bool(files(form)),
    )
    return _question_page(request, context, asked, status_code=_status_of(errors))
