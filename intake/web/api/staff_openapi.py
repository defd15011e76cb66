"""OpenAPI paths of the staff account endpoints, and the schema helpers the staff and case paths
share (merged into the document by ``intake.web.api.routes``)."""

from __future__ import annotations

from typing import Any

from intake.operations.audit_facts import KINDS
from intake.web.api.openapi import error_answers, json_answer, json_body

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
SIGNED_IN = [{"staffSession": []}]


def object_schema(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    """A JSON object with exactly these properties."""
    return {
        "type": "object",
        "required": required,
        "additionalProperties": False,
        "properties": properties,
    }


def unsafe_operation(
    summary: str,
    body: dict[str, Any] | None,
    answer: dict[str, Any],
    *codes: int,
    path_ref: bool = True,
) -> dict[str, Any]:
    """A state-changing staff operation: signed in, with the CSRF header, on a case by default."""
    operation: dict[str, Any] = {
        "summary": summary,
        "security": SIGNED_IN,
        "parameters": [*([REF] if path_ref else []), CSRF],
        "responses": {**answer, **error_answers(401, 403, *codes)},
    }
    if body is not None:
        operation["requestBody"] = json_body(body)
    return operation


STAFF_PATHS: dict[str, Any] = {
    "/api/v1/staff/login": {
        "post": {
            "summary": "Sign in with email, password and the current TOTP code",
            "requestBody": json_body(
                object_schema(
                    ["email", "password", "totp"],
                    {"email": STRING, "password": STRING, "totp": STRING},
                )
            ),
            "responses": {
                "200": json_answer(
                    "Signed in; the session cookie is set. Send csrf as X-CSRF-Token later.",
                    {"type": "object", "required": ["csrf"], "properties": {"csrf": STRING}},
                ),
                **error_answers(400, 401, 413, 422, 429),
            },
        }
    },
    "/api/v1/staff/logout": {
        "post": unsafe_operation(
            "Sign out: the session ends on the server",
            None,
            {"200": json_answer("Signed out", {"type": "object"})},
            path_ref=False,
        )
    },
    "/api/v1/staff/me": {
        "get": {
            "summary": "Who is signed in, and the session's CSRF token",
            "security": SIGNED_IN,
            "responses": {
                "200": json_answer(
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
                **error_answers(401),
            },
        }
    },
    "/api/v1/staff/password": {
        "post": unsafe_operation(
            "Change one's password (the private key is re-encrypted under the new one)",
            object_schema(["current", "new"], {"current": STRING, "new": STRING}),
            {
                "200": json_answer(
                    "Changed; other sessions of this account ended", {"type": "object"}
                )
            },
            400,
            413,
            422,
            429,
            path_ref=False,
        )
    },
    "/api/v1/staff/notifications": {
        "post": unsafe_operation(
            "Choose one's emails: a notice after each event (randomly delayed), or a daily digest",
            object_schema(["mode"], {"mode": {"enum": ["immediate", "digest"]}}),
            {
                "200": json_answer(
                    "The choice is saved",
                    object_schema(["notify"], {"notify": {"enum": ["immediate", "digest"]}}),
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
                "200": json_answer(
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
                **error_answers(401),
            },
        }
    },
}

CHANGE_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "maxLength": 32},
    "description": "A pending directory change's id, from GET /api/v1/directory/pending",
}
PERSON = object_schema(["id", "name", "email"], {"id": STRING, "name": STRING, "email": STRING})
STANDING = {
    "type": ["object", "null"],
    "properties": {
        "group": STRING,
        "role": STRING,
        "label": OPTIONAL_STRING,
        "active": {"type": "boolean"},
    },
}
PENDING_CHANGE = {
    "type": "object",
    "required": [
        "id",
        "kind",
        "proposed_by",
        "proposed_on",
        "before",
        "after",
        "keys_change",
        "signed_by",
        "needs",
        "you_may_sign",
        "you_may_refuse",
        "summary",
    ],
    "properties": {
        "id": STRING,
        "kind": {"enum": ["member", "group", "recovery", "audit"]},
        "proposed_by": {
            "type": "string",
            "description": "The proposer's email, 'operator' (the command line) or 'office root'",
        },
        "proposed_on": {"type": "string", "format": "date"},
        "group": OPTIONAL_STRING,
        "member": {"oneOf": [PERSON, {"type": "null"}]},
        "before": STANDING,
        "after": STANDING,
        "keys_change": {"type": "boolean"},
        "recovery": {"type": ["object", "null"]},
        "signed_by": {"type": "array", "items": PERSON},
        "needs": {
            "type": "object",
            "description": "count more approvals from 'from', and each of 'each_of'; or the "
            "office root key alone",
            "properties": {
                "root_only": {"type": "boolean"},
                "count": {"type": "integer"},
                "from": {"type": "array", "items": PERSON},
                "each_of": {"type": "array", "items": PERSON},
            },
        },
        "stale": {"type": "boolean"},
        "you_may_sign": {"type": "boolean"},
        "you_may_refuse": {"type": "boolean"},
        "summary": {
            "type": "array",
            "items": STRING,
            "description": "What the change does and who must still approve it, in plain words",
        },
    },
}


def _decision(summary: str, outcome: dict[str, Any]) -> dict[str, Any]:
    return {
        "summary": summary,
        "security": SIGNED_IN,
        "parameters": [CHANGE_ID, CSRF],
        "responses": {
            "200": json_answer(
                "Done", object_schema(["id", "outcome"], {"id": STRING, "outcome": outcome})
            ),
            **error_answers(401, 403, 422),
        },
    }


DIRECTORY_PATHS: dict[str, Any] = {
    "/api/v1/directory/pending": {
        "get": {
            "summary": "Recipient directory changes waiting for approval (officers and "
            "administrators)",
            "security": SIGNED_IN,
            "responses": {
                "200": json_answer(
                    "The pending changes, oldest first",
                    object_schema(
                        ["changes"], {"changes": {"type": "array", "items": PENDING_CHANGE}}
                    ),
                ),
                **error_answers(401, 403, 422),
            },
        }
    },
    "/api/v1/directory/changes/{id}/approve": {
        "post": _decision(
            "Approve (sign) a pending change as the signed-in officer or administrator its rule "
            "names; it takes effect once the rule is satisfied (audited)",
            {"enum": ["applied", "pending"]},
        )
    },
    "/api/v1/directory/changes/{id}/refuse": {
        "post": _decision(
            "Refuse a pending change: officers of its group and administrators (audited)",
            {"enum": ["refused"]},
        )
    },
}
STAFF_PATHS.update(DIRECTORY_PATHS)


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description}


AUDIT_EVENT = object_schema(
    ["at", "actor", "kind", "action", "case", "description", "facts"],
    {
        "at": {"type": "string", "format": "date-time"},
        "actor": STRING,
        "kind": STRING,
        "action": STRING,
        "case": OPTIONAL_STRING,
        "description": STRING,
        "facts": {"type": "object", "additionalProperties": STRING},
    },
)

STAFF_PATHS["/api/v1/audit"] = {
    "get": {
        "summary": "The audit log as the signed-in officer or administrator may read it, newest "
        "first: events about cases they cannot open are never shown",
        "security": SIGNED_IN,
        "parameters": [
            _query("actor", {"type": "string", "maxLength": 254}, "who (an email address)"),
            _query("kind", {"enum": list(KINDS)}, "the kind of event"),
            _query("case", {"type": "string", "maxLength": 20}, "a case reference"),
            _query("since", {"type": "string", "format": "date"}, "from this day (inclusive)"),
            _query("until", {"type": "string", "format": "date"}, "to this day (inclusive)"),
            _query("after", STRING, "the next value of the previous page"),
        ],
        "responses": {
            "200": json_answer(
                "A page of events; next is where the following page starts (null at the end)",
                object_schema(
                    ["events", "next"],
                    {"events": {"type": "array", "items": AUDIT_EVENT}, "next": OPTIONAL_STRING},
                ),
            ),
            **error_answers(401, 403, 422),
        },
    }
}

SECURITY_SCHEMES = {
    "staffSession": {
        "type": "apiKey",
        "in": "cookie",
        "name": "__Host-quietline_staff",
        "description": "Set by POST /api/v1/staff/login (named quietline_staff in development)",
    }
}
