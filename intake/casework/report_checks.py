"""Every problem of a reporter's form at once, before it is filed, so that the page can name
them all in one error summary (filing checks again in its own transaction: a category closed
in between is still refused there).
"""

from __future__ import annotations

from intake.casework import filing, filing_write, once, records
from intake.casework.questionnaires import Asked
from intake.casework.questions import check_answers
from intake.errors import InvalidInput, QuietlineError
from intake.i18n import N_
from intake.runtime import Runtime


async def problems(
    runtime: Runtime, report: filing.NewReport, asked: Asked | None = None
) -> list[QuietlineError]:
    """The form's problems in the order of its fields; empty when it may be filed. With the
    questions asked, each answer's problem too, naming its question."""
    found: list[QuietlineError] = []
    async with runtime.sessions() as session:
        categories = {item.id for item in await filing.active_categories(session)}
        excludable = {person.id for person in await filing.exclusion_choices(session, runtime)}
        if report.category not in categories:
            found.append(
                InvalidInput(N_("Please choose one of the listed categories."), field="category")
            )
        try:
            records.check_text(
                report.body,
                limit=runtime.settings.max_report_chars,
                what="report",
                field_name="body",
            )
        except QuietlineError as error:
            found.append(error)
        if not set(report.excluded_staff_ids) <= excludable:
            found.append(
                InvalidInput(
                    N_("Please choose people to exclude from the list only."), field="exclude"
                )
            )
        if report.original_token and report.original_token.strip():
            try:
                await filing_write.original_case_id(session, runtime, report.original_token)
            except QuietlineError as error:
                found.append(error)
    if asked is not None:
        found += check_answers(asked.questions, report.answers, today=runtime.today())[1]
    try:
        once.digest(runtime, report.once)
    except QuietlineError as error:
        found.append(error)
    return found
