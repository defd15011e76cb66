"""OpenAPI paths of confidential reporting: the reporter's identity by token, an officer's
request, an identity custodian's decisions (merged into the document by
``intake.web.api.routes``)."""

from __future__ import annotations

from typing import Any

from intake.web.api.openapi import (
    OPTIONAL_DAY,
    TOKEN,
    WRITTEN,
    error_answers,
    json_answer,
    json_body,
)
from intake.web.api.staff_openapi import (
    CSRF,
    OPTIONAL_STRING,
    REF,
    SIGNED_IN,
    STRING,
    object_schema,
    unsafe_operation,
)

NO_NUL = "^[^\\x00]*$"
_REQUEST_ID = {"name": "id", "in": "path", "required": True, "schema": STRING}
_OPEN = {"type": "object", "properties": {}}


def _decision(summary: str) -> dict[str, Any]:
    operation = unsafe_operation(
        summary,
        None,
        {"200": json_answer("Decided and audited", _OPEN)},
        422,
        path_ref=False,
    )
    operation["parameters"] = [_REQUEST_ID, CSRF]
    return operation


IDENTITY_PATHS: dict[str, Any] = {
    "/api/v1/reports/identity": {
        "post": {
            "summary": "Give the reporter's name under seal, by token",
            "requestBody": json_body(
                object_schema(
                    ["token", "name"],
                    {
                        "token": TOKEN,
                        "name": {"type": "string", "maxLength": 200, "pattern": WRITTEN},
                        "contact": {"type": "string", "maxLength": 500, "pattern": NO_NUL},
                    },
                )
            ),
            "responses": {
                "201": json_answer("Sealed", _OPEN),
                **error_answers(400, 403, 404, 408, 410, 413, 422, 429),
            },
        }
    },
    "/api/v1/reports/identity/withdraw": {
        "post": {
            "summary": "Ask that the reporter's name not be used: it is destroyed",
            "requestBody": json_body(object_schema(["token"], {"token": TOKEN})),
            "responses": {
                "200": json_answer("Destroyed", _OPEN),
                **error_answers(400, 403, 404, 408, 410, 413, 422, 429),
            },
        }
    },
    "/api/v1/cases/{ref}/identity": {
        "get": {
            "summary": "The case's confidential identity as this holder may see it",
            "security": SIGNED_IN,
            "parameters": [REF],
            "responses": {
                "200": json_answer(
                    "Opened only where a custodian approved this person's request",
                    {
                        "type": "object",
                        "properties": {
                            "given_on": OPTIONAL_DAY,
                            "withdrawn_on": OPTIONAL_DAY,
                            "identity": {
                                "type": ["object", "null"],
                                "properties": {"name": STRING, "contact": OPTIONAL_STRING},
                            },
                            "requests": {"type": "array"},
                        },
                    },
                ),
                **error_answers(401, 403, 404),
            },
        }
    },
    "/api/v1/cases/{ref}/identity/requests": {
        "post": unsafe_operation(
            "Ask, with a reason, to open the case's confidential identity (audited)",
            object_schema(["reason"], {"reason": {"type": "string", "minLength": 1}}),
            {"201": json_answer("Sent to the identity custodians", _OPEN)},
            404,
            422,
        )
    },
    "/api/v1/identity/requests": {
        "get": {
            "summary": "The requests waiting for this identity custodian's decision",
            "security": SIGNED_IN,
            "responses": {
                "200": json_answer(
                    "Each with its reason, case reference and requester's role only", _OPEN
                ),
                **error_answers(401, 403),
            },
        }
    },
    "/api/v1/identity/requests/{id}/approve": {
        "post": _decision("Approve: seal this custodian's half to the officer who asked (audited)")
    },
    "/api/v1/identity/requests/{id}/refuse": {
        "post": _decision("Refuse: the identity stays sealed (audited)")
    },
}
