"""``GET /api/v1/cases/search?q=``: words searched in the cases the signed-in person holds,
decrypted in memory in their session (intake/casework/search.py), and its OpenAPI path. Listed
before the case routes, so that ``search`` is not read as a case reference."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from intake.casework import search
from intake.runtime import runtime_of
from intake.web.api.openapi import DAY, error_answers, json_answer
from intake.web.api.staff_openapi import SIGNED_IN, STRING
from intake.web.staff_auth import current_staff


async def case_search(request: Request) -> Response:
    signed_in = await current_staff(request)
    found = await search.search_own_cases(
        runtime_of(request), signed_in, request.query_params.get("q", "")
    )
    return JSONResponse(
        {
            "cases": [
                {
                    "ref": hit.ref,
                    "stage": hit.stage,
                    "category": hit.category,
                    "received_on": hit.received_on.isoformat(),
                    "excerpt": hit.excerpt,
                }
                for hit in found.hits
            ],
            "searched": found.searched,
            "limit": found.limit,
            "cut_short": found.cut_short,
        }
    )


routes = [Route("/cases/search", case_search, methods=["GET"])]

PATHS: dict[str, Any] = {
    "/api/v1/cases/search": {
        "get": {
            "summary": (
                "Words searched in the cases you hold, decrypted in your session and kept "
                "nowhere; at most the search limit of cases is read, newest first (audited, "
                "without the words)"
            ),
            "security": SIGNED_IN,
            "parameters": [
                {
                    "name": "q",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "string", "maxLength": search.MAX_QUERY_CHARS},
                    "description": "words a case must all contain (any case, any accents)",
                }
            ],
            "responses": {
                "200": json_answer(
                    "The cases containing every word, newest first",
                    {
                        "type": "object",
                        "required": ["cases", "searched", "limit", "cut_short"],
                        "properties": {
                            "cases": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["ref", "stage", "category", "received_on"],
                                    "properties": {
                                        "ref": STRING,
                                        "stage": STRING,
                                        "category": STRING,
                                        "received_on": DAY,
                                        "excerpt": STRING,
                                    },
                                },
                            },
                            "searched": {"type": "integer"},
                            "limit": {"type": "integer"},
                            "cut_short": {"type": "boolean"},
                        },
                    },
                ),
                **error_answers(401, 403, 422),
            },
        }
    },
}
