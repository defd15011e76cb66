"""OpenAPI paths of the staff endpoints (merged into the document by ``intake.web.api``)."""

from __future__ import annotations

from typing import Any

from intake.casework.vocabulary import STAFF_CHANNELS, CaseKind, Outcome, Stage
from intake.web.api.openapi import DAY, OPTIONAL_DAY, TOKEN, _answer, _errors, _json_body

STRING = {"type": "string"}
OPTIONAL_STRING = {"type": ["string", "null"]}
REF = {
    "name": "ref",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "maxLength": 20},
    "description": "The staff-facing case reference, e.g. QL-ABCDE-FGHJK",
}
CSRF = {
    "name": "X-CSRF-Token",
    "in": "header",
    "required": True,
    "schema": STRING,
    "description": "The csrf value answered by sign-in (also in GET /api/v1/staff/me)",
}
DUE = {
    "type": "object",
    "properties": {"acknowledgement": OPTIONAL_DAY, "feedback": OPTIONAL_DAY},
}
ENTRY = {
    "type": "object",
    "required": ["seq", "from", "on", "body"],
    "properties": {
        "seq": {"type": "integer"},
        "from": {"enum": ["office", "reporter"]},
        "staff": OPTIONAL_STRING,
        "on": DAY,
        "body": STRING,
    },
}
QUEUE_ROW = {
    "type": "object",
    "required": ["ref", "stage", "category", "received_on", "due", "overdue"],
    "properties": {
        "ref": STRING,
        "kind": {"enum": list(CaseKind)},
        "channel": STRING,
        "category": STRING,
        "stage": STRING,
        "received_on": DAY,
        "due": DUE,
        "assignee": {
            "type": ["object", "null"],
            "properties": {"id": STRING, "name": OPTIONAL_STRING},
        },
        "overdue": {"type": "boolean"},
    },
}
CASE = {
    "type": "object",
    "required": ["ref", "stage", "report", "messages", "notes", "holders", "due"],
    "properties": {
        "ref": STRING,
        "kind": STRING,
        "channel": STRING,
        "category": STRING,
        "stage": STRING,
        "next_stages": {"type": "array", "items": STRING},
        "outcome": OPTIONAL_STRING,
        "outcome_reason": OPTIONAL_STRING,
        "received_on": DAY,
        "acknowledged_on": OPTIONAL_DAY,
        "concluded_on": OPTIONAL_DAY,
        "due": DUE,
        "overdue": {"type": "boolean"},
        "involves_office": {"type": "boolean"},
        "assignee": OPTIONAL_STRING,
        "linked_case": OPTIONAL_STRING,
        "report": {"type": "object"},
        "messages": {"type": "array", "items": ENTRY},
        "notes": {"type": "array", "items": ENTRY},
        "holders": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"id": STRING, "name": STRING, "email": STRING, "role": STRING},
            },
        },
        "attachments": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "name", "size", "cleaned", "url"],
                "properties": {
                    "id": STRING,
                    "name": STRING,
                    "size": {"type": "integer"},
                    "cleaned": {
                        "type": "boolean",
                        "description": "Whether identifying metadata was removed on arrival",
                    },
                    "url": {"type": "string", "description": "GET it to download the file"},
                },
            },
        },
    },
}
SIGNED_IN = [{"staffSession": []}]


def _object(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": required,
        "additionalProperties": False,
        "properties": properties,
    }


def _unsafe(
    summary: str,
    body: dict[str, Any] | None,
    answer: dict[str, Any],
    *codes: int,
    path_ref: bool = True,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "security": SIGNED_IN,
        "parameters": [*([REF] if path_ref else []), CSRF],
        "responses": {**answer, **_errors(401, 403, *codes)},
    }
    if body is not None:
        operation["requestBody"] = _json_body(body)
    return operation


STAFF_PATHS: dict[str, Any] = {
    "/api/v1/staff/login": {
        "post": {
            "summary": "Sign in with email, password and the current TOTP code",
            "requestBody": _json_body(
                _object(
                    ["email", "password", "totp"],
                    {"email": STRING, "password": STRING, "totp": STRING},
                )
            ),
            "responses": {
                "200": _answer(
                    "Signed in; the session cookie is set. Send csrf as X-CSRF-Token later.",
                    {"type": "object", "required": ["csrf"], "properties": {"csrf": STRING}},
                ),
                **_errors(400, 401, 413, 422, 429),
            },
        }
    },
    "/api/v1/staff/logout": {
        "post": _unsafe(
            "Sign out: the session ends on the server",
            None,
            {"200": _answer("Signed out", {"type": "object"})},
            path_ref=False,
        )
    },
    "/api/v1/staff/me": {
        "get": {
            "summary": "Who is signed in, and the session's CSRF token",
            "security": SIGNED_IN,
            "responses": {
                "200": _answer(
                    "The signed-in staff member",
                    {
                        "type": "object",
                        "required": ["id", "email", "name", "role", "csrf"],
                        "properties": {
                            "id": STRING,
                            "email": STRING,
                            "name": STRING,
                            "role": STRING,
                            "group": STRING,
                            "notify": {"enum": ["immediate", "digest"]},
                            "csrf": STRING,
                        },
                    },
                ),
                **_errors(401),
            },
        }
    },
    "/api/v1/staff/password": {
        "post": _unsafe(
            "Change one's password (the private key is re-encrypted under the new one)",
            _object(["current", "new"], {"current": STRING, "new": STRING}),
            {"200": _answer("Changed; other sessions of this account ended", {"type": "object"})},
            400,
            413,
            422,
            path_ref=False,
        )
    },
    "/api/v1/staff/notifications": {
        "post": _unsafe(
            "Choose one's emails: a notice after each event (randomly delayed), or a daily digest",
            _object(["mode"], {"mode": {"enum": ["immediate", "digest"]}}),
            {
                "200": _answer(
                    "The choice is saved",
                    _object(["notify"], {"notify": {"enum": ["immediate", "digest"]}}),
                )
            },
            400,
            413,
            422,
            path_ref=False,
        )
    },
    "/api/v1/staff": {
        "get": {
            "summary": "Active staff members (to grant or assign a case)",
            "security": SIGNED_IN,
            "responses": {
                "200": _answer(
                    "Staff members",
                    {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "id": STRING,
                                "name": STRING,
                                "role": STRING,
                                "group": STRING,
                            },
                        },
                    },
                ),
                **_errors(401),
            },
        }
    },
    "/api/v1/cases": {
        "get": {
            "summary": "The queue: cases this person holds a key to, newest first",
            "security": SIGNED_IN,
            "parameters": [
                {"name": "stage", "in": "query", "schema": STRING},
                {"name": "category", "in": "query", "schema": STRING},
                {"name": "overdue", "in": "query", "schema": {"type": "boolean"}},
                {"name": "mine", "in": "query", "schema": {"type": "boolean"}},
                {"name": "after", "in": "query", "schema": STRING},
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 200},
                },
            ],
            "responses": {
                "200": _answer(
                    "One page of the queue; pass next as after for the following page",
                    {
                        "type": "object",
                        "required": ["cases", "next"],
                        "properties": {
                            "cases": {"type": "array", "items": QUEUE_ROW},
                            "next": OPTIONAL_STRING,
                        },
                    },
                ),
                **_errors(401, 422),
            },
        },
        "post": _unsafe(
            "Record a report received by phone, mail or in person; the token is shown once",
            _object(
                ["category", "body", "channel"],
                {
                    "category": STRING,
                    "body": {"type": "string", "minLength": 1},
                    "channel": {"enum": list(STAFF_CHANNELS)},
                    "kind": {"enum": list(CaseKind)},
                    "involves_office": {"type": "boolean"},
                    "exclude": {"type": "array", "items": STRING},
                    "original_token": {"type": ["string", "null"]},
                },
            ),
            {
                "201": _answer(
                    "Recorded; hand the token to the reporter",
                    {
                        "type": "object",
                        "required": ["ref", "token"],
                        "properties": {"ref": STRING, "token": TOKEN},
                    },
                )
            },
            400,
            413,
            422,
            503,
            path_ref=False,
        ),
    },
    "/api/v1/cases/{ref}": {
        "get": {
            "summary": "A case: report, messages, notes, stage, due dates, holders (audited)",
            "security": SIGNED_IN,
            "parameters": [REF],
            "responses": {"200": _answer("The case", CASE), **_errors(401, 403, 404)},
        }
    },
    "/api/v1/cases/{ref}/attachments/{attachment_id}": {
        "get": {
            "summary": "Download one file of a case, decrypted (audited)",
            "security": SIGNED_IN,
            "parameters": [
                REF,
                {
                    "name": "attachment_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "maxLength": 32},
                },
            ],
            "responses": {
                "200": {
                    "description": "The file, as application/octet-stream with "
                    "Content-Disposition: attachment",
                    "content": {"application/octet-stream": {"schema": {"type": "string"}}},
                },
                **_errors(401, 403, 404),
            },
        }
    },
    "/api/v1/cases/{ref}/stage": {
        "post": _unsafe(
            "Move a case to its next stage; concluding needs an outcome and a reason",
            _object(
                ["stage"],
                {
                    "stage": {"enum": [stage for stage in Stage if stage != Stage.RECEIVED]},
                    "outcome": {
                        "type": ["string", "null"],
                        "enum": [*Outcome, None],
                    },
                    "reason": OPTIONAL_STRING,
                },
            ),
            {
                "200": _answer(
                    "The new stage and due dates",
                    {
                        "type": "object",
                        "required": ["ref", "stage", "due"],
                        "properties": {
                            "ref": STRING,
                            "stage": STRING,
                            "outcome": OPTIONAL_STRING,
                            "due": DUE,
                        },
                    },
                )
            },
            400,
            404,
            413,
            422,
        )
    },
    "/api/v1/cases/{ref}/messages": {
        "post": _unsafe(
            "Send the reporter a message (they read it with their token)",
            _object(["body"], {"body": {"type": "string", "minLength": 1}}),
            {
                "201": _answer(
                    "Sent", {"type": "object", "properties": {"seq": {"type": "integer"}}}
                )
            },
            400,
            404,
            413,
            422,
        )
    },
    "/api/v1/cases/{ref}/notes": {
        "post": _unsafe(
            "Add an internal note (never shown to the reporter)",
            _object(["body"], {"body": {"type": "string", "minLength": 1}}),
            {
                "201": _answer(
                    "Added", {"type": "object", "properties": {"seq": {"type": "integer"}}}
                )
            },
            400,
            404,
            413,
            422,
        )
    },
    "/api/v1/cases/{ref}/assign": {
        "post": _unsafe(
            "Assign the case to a staff member (granting access if needed), or clear it (null)",
            _object(["staff_id"], {"staff_id": OPTIONAL_STRING}),
            {"200": _answer("Assigned", {"type": "object"})},
            400,
            404,
            413,
            422,
        )
    },
    "/api/v1/cases/{ref}/grants": {
        "post": _unsafe(
            "Give another staff member access (the case key is sealed to their public key)",
            _object(["staff_id"], {"staff_id": STRING}),
            {"201": _answer("Granted", {"type": "object"})},
            400,
            404,
            413,
            422,
        )
    },
    "/api/v1/cases/{ref}/grants/{staff_id}": {
        "delete": {
            **_unsafe(
                "Remove a staff member's access (the last staff holder always remains)",
                None,
                {"200": _answer("Revoked", {"type": "object"})},
                404,
                422,
            ),
            "parameters": [
                REF,
                {"name": "staff_id", "in": "path", "required": True, "schema": STRING},
                CSRF,
            ],
        }
    },
}

SECURITY_SCHEMES = {
    "staffSession": {
        "type": "apiKey",
        "in": "cookie",
        "name": "__Host-quietline_staff",
        "description": "Set by POST /api/v1/staff/login (named quietline_staff in development)",
    }
}
