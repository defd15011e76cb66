"""Staff API for operations: annual statistics, exporting a case, legal hold."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from intake.casework import workflow
from intake.operations import stats
from intake.runtime import runtime_of
from intake.web import pdf
from intake.web.api.parsing import StrictBody, read_json
from intake.web.staff.operations import (
    annual_figures,
    download,
    export_response,
    requested_format,
    requested_year,
    require_stats_role,
)
from intake.web.staff_auth import current_staff

API_STATS_FORMATS = ("json", "csv", "pdf")


class HoldIn(StrictBody):
    hold: bool


async def annual_stats(request: Request) -> Response:
    signed_in = await current_staff(request)
    require_stats_role(signed_in)
    runtime = runtime_of(request)
    year = requested_year(request, runtime.today())
    form = requested_format(request, "json", API_STATS_FORMATS)
    figures = await annual_figures(runtime, year)
    if form == "pdf":
        return await pdf.council_response(figures, runtime, year)
    if form == "csv":
        return download(stats.to_csv(figures), "text/csv", f"quietline-{year}.csv")
    return JSONResponse(figures)


async def case_export(request: Request) -> Response:
    signed_in = await current_staff(request)
    return await export_response(request, signed_in, request.query_params.get("format", "html"))


async def case_legal_hold(request: Request) -> Response:
    signed_in = await current_staff(request)
    sent = await read_json(request, HoldIn)
    case = await workflow.set_legal_hold(
        runtime_of(request), signed_in, request.path_params["ref"], hold=sent.hold
    )
    return JSONResponse({"ref": case.ref, "legal_hold": case.legal_hold})


routes = [
    Route("/stats", annual_stats, methods=["GET"]),
    Route("/cases/{ref}/export", case_export, methods=["POST"]),
    Route("/cases/{ref}/legal-hold", case_legal_hold, methods=["POST"]),
]
