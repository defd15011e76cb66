"""The search in one's own cases: the results page (the form is an include of the queue page).
The words travel in the query string of a GET, like the queue's filters, and are never logged
(the access log is off)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from intake.casework import filing, search
from intake.errors import InvalidInput
from intake.runtime import runtime_of
from intake.web.staff.routes import signed_in_page
from intake.web.staff_auth import current_staff
from intake.web.templating import render


@signed_in_page
async def search_page(request: Request) -> Response:
    runtime = runtime_of(request)
    signed_in = await current_staff(request)
    query = request.query_params.get("q", "")
    result, error = None, None
    try:
        result = await search.search_own_cases(runtime, signed_in, query)
    except InvalidInput as problem:
        error = problem
    async with runtime.sessions() as session:
        categories = await filing.active_categories(session)
    return render(
        request,
        "staff/search.html",
        {
            "me": signed_in,
            "query": query,
            "result": result,
            "error": error,
            "category_labels": {item.id: item.label for item in categories},
        },
        status_code=error.status if error else 200,
    )


routes = [Route("/staff/search", search_page, methods=["GET"])]
