"""The OpenAPI 3.1 document served at ``/api/v1/openapi.json``.

Written by hand so it says exactly what the endpoints accept and answer; the
schemathesis run in the test suite holds the two together.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}},
}


def _json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _answer(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {"schema": schema or {"$ref": "#/components/schemas/Error"}}
        },
    }


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "Malformed request (not JSON, not UTF-8)",
        401: "Not signed in",
        403: "Not allowed",
        404: "Not found",
        413: "Request too large",
        422: "Invalid input (the message says which field and why)",
        429: "Too many attempts: wait as the message says",
        503: "Cannot accept it now (no recipient set up)",
    }
    return {str(code): _answer(text[code]) for code in codes}


TOKEN = {"type": "string", "description": "The reporter's case token (any case, spaces or dashes)"}
REPORT_IN = {
    "type": "object",
    "required": ["category", "body"],
    "additionalProperties": False,
    "properties": {
        "category": {"type": "string"},
        "body": {"type": "string", "minLength": 1},
        "involves_office": {"type": "boolean"},
        "exclude": {
            "type": "array",
            "items": {"type": "string"},
            "description": "ids from GET /api/v1/form routing.exclude",
        },
        "kind": {"enum": ["report", "reprisal"]},
        "original_token": {
            "type": ["string", "null"],
            "description": "For a reprisal complaint: the earlier case's token",
        },
    },
}
MESSAGE_IN = {
    "type": "object",
    "required": ["token", "body"],
    "additionalProperties": False,
    "properties": {"token": TOKEN, "body": {"type": "string"}},
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
                "200": _answer(
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
                "201": _answer(
                    "Filed and durably stored, with every attachment",
                    {
                        "type": "object",
                        "required": ["token"],
                        "properties": {"token": TOKEN, "attachments": ATTACHMENT_OUTCOMES},
                    },
                ),
                **_errors(400, 413, 422, 503),
            },
        }
    },
    "/api/v1/reports/status": {
        "post": {
            "summary": "A case's stage, due dates and messages, by token",
            "requestBody": _json_body(
                {
                    "type": "object",
                    "required": ["token"],
                    "additionalProperties": False,
                    "properties": {"token": TOKEN},
                }
            ),
            "responses": {
                "200": _answer(
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
                **_errors(400, 404, 413, 422),
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
                "201": _answer(
                    "Sent",
                    {
                        "type": "object",
                        "properties": {
                            "sent": {"type": "boolean"},
                            "attachments": ATTACHMENT_OUTCOMES,
                        },
                    },
                ),
                **_errors(400, 404, 413, 422),
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


async def openapi_json(request: Request) -> Response:
    return JSONResponse(document())


routes = [Route("/openapi.json", openapi_json, methods=["GET"])]
