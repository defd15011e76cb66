"""The messages drafted for concluding a case, one per outcome and language
(intake/casework/closing.py), and their OpenAPI path. Concluding itself is
``POST /api/v1/cases/{ref}/stage``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from intake import i18n
from intake.casework import closing
from intake.casework.vocabulary import Outcome
from intake.web.api.openapi import error_answers, json_answer
from intake.web.api.staff_openapi import SIGNED_IN, STRING
from intake.web.staff_auth import current_staff


async def drafts(request: Request) -> Response:
    await current_staff(request)
    return JSONResponse(
        {
            "drafts": {
                i18n.to_tag(locale): closing.drafts(locale) for locale in i18n.available_locales()
            },
            "placeholders": sorted(closing.placeholders()),
        }
    )


routes = [Route("/closing-messages", drafts, methods=["GET"])]

_PER_OUTCOME = {
    "type": "object",
    "required": list(Outcome),
    "properties": {outcome.value: STRING for outcome in Outcome},
}

PATHS: dict[str, Any] = {
    "/api/v1/closing-messages": {
        "get": {
            "summary": (
                "The message to the reporter drafted for each outcome, in each language (the "
                "reporter's language is not stored); replace the placeholders before sending"
            ),
            "security": SIGNED_IN,
            "responses": {
                "200": json_answer(
                    "Drafts by language tag, then by outcome",
                    {
                        "type": "object",
                        "required": ["drafts", "placeholders"],
                        "properties": {
                            "drafts": {"type": "object", "additionalProperties": _PER_OUTCOME},
                            "placeholders": {"type": "array", "items": STRING},
                        },
                    },
                ),
                **error_answers(401),
            },
        }
    },
}
