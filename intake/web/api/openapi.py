"""The OpenAPI 3.1 document served at ``/api/v1/openapi.json``.

Written by hand so it says exactly what the endpoints accept and answer; the
schemathesis run in the test suite holds the two together.
"""

from __future__ import annotations

import copy
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from intake.casework import filing
from intake.casework.vocabulary import CaseKind
from intake.config import Settings
from intake.runtime import runtime_of

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}},
}


def json_body(schema: dict[str, Any]) -> dict[str, Any]:
    """A required JSON request body of ``schema``."""
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def json_answer(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """A JSON response of ``schema`` (the error object when none is given)."""
    return {
        "description": description,
        "content": {
            "application/json": {"schema": schema or {"$ref": "#/components/schemas/Error"}}
        },
    }


def error_answers(*codes: int) -> dict[str, Any]:
    """The error responses for these status codes, keyed as OpenAPI keys them."""
    text = {
        400: "Malformed request (not JSON, not UTF-8)",
        401: "Not signed in",
        403: "Not allowed (or sent from another site)",
        404: "Not found",
        408: "The request body arrived too slowly",
        409: "Already filed: a report was filed with this idempotency key; its token was "
        "in that first answer",
        410: "The case was closed and its records deleted under the retention rules",
        413: "Request too large",
        422: "Invalid input (the message says which field and why)",
        429: "Too many requests or attempts right now: wait as the message and Retry-After say",
        503: "Cannot accept it now (no recipient set up)",
        507: "The files do not fit the storage budget now; nothing was saved (send the text "
        "without them)",
    }
    return {str(code): json_answer(text[code]) for code in codes}


TOKEN = {
    "type": "string",
    "description": "The reporter's case token (any case, spaces or dashes); a typo answers 422",
    "minLength": 1,
}
# What a person writes: at least one character that is not white space, and no NUL.
WRITTEN = "^[^\\x00]*[^\\s\\x00][^\\x00]*$"
REPORT_IN = {
    "type": "object",
    "required": ["category", "body"],
    "additionalProperties": False,
    "properties": {
        "category": {"type": "string"},
        "body": {"type": "string", "minLength": 1, "pattern": WRITTEN},
        "involves_office": {"type": "boolean"},
        "exclude": {
            "type": "array",
            "items": {"type": "string"},
            "description": "ids from GET /api/v1/form routing.exclude",
        },
        "kind": {"enum": list(CaseKind)},
        "original_token": {
            "type": ["string", "null"],
            "description": "For a reprisal complaint: the earlier case's token",
        },
        "idempotency_key": {
            "type": ["string", "null"],
            "pattern": "^[A-Za-z0-9_-]{16,64}$",
            "description": "A random key of the client's own: a report sent again with the "
            "same key, until the end of the next day, files nothing and answers 409",
        },
        "answers": {
            "type": "object",
            "description": "Answers to the category's questions (GET /api/v1/form), by question "
            "id: a string (text, long_text, single, yes_no: a choice id; date: YYYY-MM-DD; "
            "period: YYYY or YYYY-MM; number; amount), a list of choice ids (multiple), or "
            "\"unknown\". A wrong answer is a 422 that names the question",
        },
        "identity": {
            "type": ["object", "null"],
            "description": "Confidential reporting: a name and a way to reach the reporter, "
            "sealed so that an officer and an identity custodian together are needed to open "
            "it; leave it out to stay anonymous",
            "required": ["name"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "maxLength": 200, "pattern": WRITTEN},
                "contact": {"type": "string", "maxLength": 500, "pattern": "^[^\\x00]*$"},
            },
        },
    },
}
MESSAGE_IN = {
    "type": "object",
    "required": ["token", "body"],
    "additionalProperties": False,
    "properties": {
        "token": TOKEN,
        "body": {"type": "string", "minLength": 1, "pattern": WRITTEN},
    },
}
FILES = {
    "type": "array",
    "items": {"type": "string", "contentMediaType": "application/octet-stream"},
    "description": "The attachments (limits: GET /api/v1/form). Metadata is removed from JPEG, "
    "PNG and WebP images, PDFs and Office documents; other files are kept as they are.",
}
ATTACHMENT_OUTCOMES = {
    "type": "array",
    "description": "For each file sent: what was cleaned, or why not, with advice",
    "items": {
        "type": "object",
        "required": ["name", "size", "format", "cleaned", "removed"],
        "properties": {
            "name": {"type": "string"},
            "size": {"type": "integer"},
            "format": {"type": "string"},
            "cleaned": {"type": "boolean"},
            "removed": {"type": "array", "items": {"type": "string"}},
            "problem": {"type": ["string", "null"]},
            "advice": {"type": ["string", "null"]},
        },
    },
}


def _json_or_multipart(schema: dict[str, Any], part: str) -> dict[str, Any]:
    """A JSON body, or the same JSON as the multipart part ``part`` beside ``files`` parts."""
    return {
        "required": True,
        "content": {
            "application/json": {"schema": schema},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [part],
                    "properties": {part: schema, "files": FILES},
                },
                "encoding": {part: {"contentType": "application/json"}},
            },
        },
    }


DAY = {"type": "string", "format": "date"}
OPTIONAL_DAY = {"type": ["string", "null"], "format": "date"}

REPORTER_PATHS: dict[str, Any] = {
    "/api/v1/form": {
        "get": {
            "summary": "What the report form offers: categories, routing choices, limits",
            "responses": {
                "200": json_answer(
                    "The form description",
                    {
                        "type": "object",
                        "required": ["categories", "limits"],
                        "properties": {
                            "categories": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["id", "label"],
                                    "properties": {
                                        "id": {"type": "string"},
                                        "label": {"type": "string"},
                                        "questions": {
                                            "type": "array",
                                            "description": "Asked for this category: id, "
                                            "kind, text, help, required, may_identify, and "
                                            "choices (choice kinds) or the unknown value",
                                            "items": {"type": "object"},
                                        },
                                    },
                                },
                            },
                            "routing": {"type": "object"},
                            "limits": {"type": "object"},
                        },
                    },
                )
            },
        }
    },
    "/api/v1/reports": {
        "post": {
            "summary": "File a report; the answer holds the reporter's token, shown once",
            "description": "Send JSON, or multipart/form-data with the report as a JSON part "
            "named `report` and files as parts named `files`. A file over a limit is refused "
            "with 413 and a message naming the limit; nothing is stored then.",
            "requestBody": _json_or_multipart(REPORT_IN, "report"),
            "responses": {
                "201": json_answer(
                    "Filed and durably stored, with every attachment",
                    {
                        "type": "object",
                        "required": ["token"],
                        "properties": {"token": TOKEN, "attachments": ATTACHMENT_OUTCOMES},
                    },
                ),
                **error_answers(400, 403, 408, 409, 413, 422, 429, 503, 507),
            },
        }
    },
    "/api/v1/reports/status": {
        "post": {
            "summary": "A case's stage, due dates and messages, by token",
            "requestBody": json_body(
                {
                    "type": "object",
                    "required": ["token"],
                    "additionalProperties": False,
                    "properties": {"token": TOKEN},
                }
            ),
            "responses": {
                "200": json_answer(
                    "The case as the reporter may see it",
                    {
                        "type": "object",
                        "required": ["stage", "received_on", "due", "messages"],
                        "properties": {
                            "stage": {"type": "string"},
                            "received_on": DAY,
                            "due": {
                                "type": "object",
                                "properties": {
                                    "acknowledgement": OPTIONAL_DAY,
                                    "feedback": OPTIONAL_DAY,
                                },
                            },
                            "outcome": {"type": ["string", "null"]},
                            "concluded_on": OPTIONAL_DAY,
                            "identity": {
                                "type": "object",
                                "description": "A confidential reporter's name: the days it "
                                "was given and withdrawn, and each time it was opened (role "
                                "and day) unless the office tells the reporter itself",
                                "properties": {
                                    "given_on": OPTIONAL_DAY,
                                    "withdrawn_on": OPTIONAL_DAY,
                                    "office_tells": {"type": "boolean"},
                                    "disclosures": {"type": "array"},
                                },
                            },
                            "messages": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["from", "body", "on"],
                                    "properties": {
                                        "from": {"enum": ["office", "reporter"]},
                                        "body": {"type": "string"},
                                        "on": DAY,
                                    },
                                },
                            },
                        },
                    },
                ),
                **error_answers(400, 403, 404, 408, 410, 413, 422, 429),
            },
        }
    },
    "/api/v1/reports/messages": {
        "post": {
            "summary": "Send the office a follow-up message, by token",
            "description": "Send JSON, or multipart/form-data with `{token, body}` as a JSON "
            "part named `message` and files as parts named `files` (the body may then be "
            "empty).",
            "requestBody": _json_or_multipart(MESSAGE_IN, "message"),
            "responses": {
                "201": json_answer(
                    "Sent",
                    {
                        "type": "object",
                        "properties": {
                            "sent": {"type": "boolean"},
                            "attachments": ATTACHMENT_OUTCOMES,
                        },
                    },
                ),
                **error_answers(400, 403, 404, 408, 410, 413, 422, 429, 507),
            },
        }
    },
}

# Other modules (the staff API) add their paths and security schemes here.
PATHS: dict[str, Any] = dict(REPORTER_PATHS)
SECURITY_SCHEMES: dict[str, Any] = {}


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Quietline API", "version": "1"},
        "paths": PATHS,
        "components": {"schemas": {"Error": ERROR}, "securitySchemes": SECURITY_SCHEMES},
    }


def specialise(
    doc: dict[str, Any], *, categories: list[str], excludable: list[str], settings: Settings
) -> dict[str, Any]:
    """This instance's categories, people and limits, so the document says exactly what is
    accepted. (The JSON and multipart forms of a body share one schema object.)"""
    doc = copy.deepcopy(doc)
    paths = doc["paths"]
    report = paths["/api/v1/reports"]["post"]["requestBody"]["content"]["application/json"]
    properties = report["schema"]["properties"]
    properties["category"]["enum"] = categories
    properties["body"]["maxLength"] = settings.max_report_chars
    exclude = properties["exclude"]
    exclude["uniqueItems"] = True
    if excludable:
        exclude["items"] = {"enum": excludable}
    else:
        exclude["maxItems"] = 0
    message = paths["/api/v1/reports/messages"]["post"]["requestBody"]["content"]
    message["application/json"]["schema"]["properties"]["body"]["maxLength"] = (
        settings.max_message_chars
    )
    return doc


async def openapi_json(request: Request) -> Response:
    runtime = runtime_of(request)
    async with runtime.sessions() as session:
        categories = [category.id for category in await filing.active_categories(session)]
        excludable = [person.id for person in await filing.exclusion_choices(session, runtime)]
    return JSONResponse(
        specialise(
            document(), categories=categories, excludable=excludable, settings=runtime.settings
        )
    )


routes = [Route("/openapi.json", openapi_json, methods=["GET"])]
