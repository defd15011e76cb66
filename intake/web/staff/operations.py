"""Staff pages for operations: annual statistics, exporting a case, legal hold."""

from __future__ import annotations

from datetime import date

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from intake.accounts import sessions
from intake.casework import export, questionnaires, workflow
from intake.casework.vocabulary import Role
from intake.errors import Forbidden, InvalidInput
from intake.i18n import N_
from intake.numbers import is_digits
from intake.operations import stats
from intake.runtime import Runtime, runtime_of
from intake.web import charts, export_file, pdf
from intake.web.labels import role_phrase
from intake.web.staff.routes import case_action, signed_in_page
from intake.web.staff_auth import current_staff
from intake.web.templating import render

STATS_ROLES = (Role.OFFICER, Role.ADMIN)
FIRST_YEAR = 2000


def require_stats_role(signed_in: sessions.SignedIn) -> None:
    if signed_in.staff.role not in STATS_ROLES:
        raise Forbidden(
            N_("Your role (%(role)s) cannot see the annual statistics."),
            role=role_phrase(signed_in.staff.role),
        )


def requested_year(request: Request, today: date) -> int:
    text = request.query_params.get("year", "")
    if not text:
        return today.year
    if not is_digits(text) or not FIRST_YEAR <= int(text) <= today.year:
        raise InvalidInput(
            N_("Choose a year from %(first)s to %(last)s."),
            field="year",
            first=str(FIRST_YEAR),
            last=str(today.year),
        )
    return int(text)


STATS_FORMATS = ("html", "json", "csv", "pdf")


def requested_format(
    request: Request, default: str, allowed: tuple[str, ...] = STATS_FORMATS
) -> str:
    """The statistics' format asked for in the query; an unknown one is refused (422)."""
    form = request.query_params.get("format", default)
    if form not in allowed:
        raise InvalidInput(
            N_("Choose one of these formats: %(formats)s."),
            field="format",
            formats=", ".join(allowed),
        )
    return form


async def annual_figures(runtime: Runtime, year: int) -> dict[str, object]:
    async with runtime.sessions() as session:
        return await stats.annual(
            session,
            year=year,
            as_of=runtime.today(),
            rules=runtime.rules,
            threshold=runtime.settings.stats_min_cell,
        )


def download(body: str, media_type: str, name: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@signed_in_page
async def stats_page(request: Request) -> Response:
    signed_in = await current_staff(request)
    require_stats_role(signed_in)
    runtime = runtime_of(request)
    today = runtime.today()
    year = requested_year(request, today)
    form = requested_format(request, "html")
    figures = await annual_figures(runtime, year)
    if form == "pdf":
        return await pdf.council_response(figures, runtime, year)
    async with runtime.sessions() as session:
        answer_labels = await questionnaires.statistical_labels(session)
    if form == "csv":
        return download(stats.to_csv(figures), "text/csv", f"quietline-{year}.csv")
    if form == "json":
        return JSONResponse(
            figures,
            headers={"Content-Disposition": f'attachment; filename="quietline-{year}.json"'},
        )
    return render(
        request,
        "stats/annual.html",
        {
            "me": signed_in,
            "figures": figures,
            "charts": charts.charts_for(figures),
            "outcome_names": charts.OUTCOME_NAMES,
            "answer_labels": answer_labels,
            "years": list(range(today.year, max(FIRST_YEAR, today.year - 9) - 1, -1)),
            "form_action": "/staff/stats",
        },
    )


@signed_in_page
async def export_case(request: Request) -> Response:
    form: FormData = await request.form(max_files=0, max_fields=5)
    signed_in = await current_staff(request, form)
    return await export_response(request, signed_in, str(form.get("format") or "html"))


async def export_response(
    request: Request, signed_in: sessions.SignedIn, file_format: str
) -> Response:
    """The case as an HTML or PDF download (the format is checked before the export is
    audited); the page's form and the API share it."""
    bundle = await export.export_for_staff(
        runtime_of(request), signed_in, request.path_params["ref"], file_format
    )
    if file_format == "pdf":
        return await pdf.case_response(bundle)
    return export_file.response(bundle)


async def _hold(request: Request, who: sessions.SignedIn, ref: str, form: FormData) -> str:
    hold = form.get("hold") == "on"
    await workflow.set_legal_hold(runtime_of(request), who, ref, hold=hold)
    return "hold-on" if hold else "hold-off"


routes = [
    Route("/staff/stats", stats_page, methods=["GET"]),
    Route("/staff/cases/{ref}/export", export_case, methods=["POST"]),
    Route("/staff/cases/{ref}/legal-hold", case_action(_hold), methods=["POST"]),
]
