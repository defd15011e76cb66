"""OpenAPI paths of the case endpoints (merged into the document by ``intake.web.api.routes``)."""

from __future__ import annotations

from typing import Any

from intake.casework.queue import SORTS
from intake.casework.vocabulary import STAFF_CHANNELS, CaseKind, Outcome, Stage
from intake.web.api.openapi import DAY, OPTIONAL_DAY, TOKEN, error_answers, json_answer
from intake.web.api.staff_openapi import (
    CSRF,
    OPTIONAL_STRING,
    REF,
    SIGNED_IN,
    STRING,
    object_schema,
    unsafe_operation,
)

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
        "answers": {
            "type": "array",
            "description": "The reporter's answers, with the questions as they were asked",
            "items": {
                "type": "object",
                "required": ["question", "answer", "may_identify"],
                "properties": {
                    "question": {"type": "string"},
                    "answer": {"type": "string"},
                    "may_identify": {"type": "boolean"},
                },
            },
        },
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

CASE_PATHS: dict[str, Any] = {
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
                    "name": "sort",
                    "in": "query",
                    "schema": {"enum": list(SORTS)},
                    "description": "the order: newest (received) or oldest first, the soonest "
                    "deadline first (due), by stage, category, reference or assignee",
                },
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 200},
                },
            ],
            "responses": {
                "200": json_answer(
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
                **error_answers(401, 422),
            },
        },
        "post": unsafe_operation(
            "Record a report received by phone, mail or in person; the token is shown once",
            object_schema(
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
                "201": json_answer(
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
            "responses": {"200": json_answer("The case", CASE), **error_answers(401, 403, 404)},
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
                **error_answers(401, 403, 404),
            },
        }
    },
    "/api/v1/cases/{ref}/stage": {
        "post": unsafe_operation(
            "Move a case to its next stage; concluding needs an outcome, a reason, and either a "
            "message to the reporter (sent as an office message; GET /api/v1/closing-messages "
            "gives a draft per outcome) or the reason none can be sent (no_message_reason)",
            object_schema(
                ["stage"],
                {
                    "stage": {"enum": [stage for stage in Stage if stage != Stage.RECEIVED]},
                    "outcome": {
                        "type": ["string", "null"],
                        "enum": [*Outcome, None],
                    },
                    "reason": OPTIONAL_STRING,
                    "message": OPTIONAL_STRING,
                    "no_message_reason": OPTIONAL_STRING,
                },
            ),
            {
                "200": json_answer(
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
        "post": unsafe_operation(
            "Send the reporter a message (they read it with their token)",
            object_schema(["body"], {"body": {"type": "string", "minLength": 1}}),
            {
                "201": json_answer(
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
        "post": unsafe_operation(
            "Add an internal note (never shown to the reporter)",
            object_schema(["body"], {"body": {"type": "string", "minLength": 1}}),
            {
                "201": json_answer(
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
        "post": unsafe_operation(
            "Assign the case to a staff member (granting access if needed), or clear it (null)",
            object_schema(["staff_id"], {"staff_id": OPTIONAL_STRING}),
            {"200": json_answer("Assigned", {"type": "object"})},
            400,
            404,
            413,
            422,
        )
    },
    "/api/v1/cases/{ref}/grants": {
        "post": unsafe_operation(
            "Give another staff member access (the case key is sealed to their public key)",
            object_schema(["staff_id"], {"staff_id": STRING}),
            {"201": json_answer("Granted", {"type": "object"})},
            400,
            404,
            413,
            422,
        )
    },
    "/api/v1/cases/{ref}/grants/{staff_id}": {
        "delete": {
            **unsafe_operation(
                "Remove a staff member's access (the last staff holder always remains)",
                None,
                {"200": json_answer("Revoked", {"type": "object"})},
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
