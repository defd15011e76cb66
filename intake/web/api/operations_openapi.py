"""OpenAPI paths of the operations endpoints (merged into the document by ``intake.web.api``)."""

from __future__ import annotations

from typing import Any

from intake.web.api.openapi import error_answers, json_answer
from intake.web.api.staff_openapi import SIGNED_IN, object_schema, unsafe_operation

OPERATIONS_PATHS: dict[str, Any] = {
    "/api/v1/stats": {
        "get": {
            "summary": "Annual statistics for council (small counts shown as 'fewer than N')",
            "security": SIGNED_IN,
            "parameters": [
                {"name": "year", "in": "query", "schema": {"type": "integer"}},
                {"name": "format", "in": "query", "schema": {"enum": ["json", "csv"]}},
            ],
            "responses": {
                "200": json_answer(
                    "The figures: counts are integers or the words 'fewer than N' / 'withheld'",
                    {"type": "object", "required": ["year", "received"]},
                ),
                **error_answers(401, 403, 422),
            },
        }
    },
    "/api/v1/cases/{ref}/export": {
        "post": {
            **unsafe_operation(
                "Export the case as one self-contained HTML file (audited)", None, {}, 404
            ),
            "responses": {
                "200": {
                    "description": "The HTML file, as an attachment",
                    "content": {"text/html": {"schema": {"type": "string"}}},
                },
                **error_answers(401, 403, 404),
            },
        }
    },
    "/api/v1/cases/{ref}/legal-hold": {
        "post": unsafe_operation(
            "Put the case on legal hold (never deleted) or lift it (audited)",
            object_schema(["hold"], {"hold": {"type": "boolean"}}),
            {"200": json_answer("Done", {"type": "object"})},
            400,
            404,
            413,
            422,
        )
    },
}
