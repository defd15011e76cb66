"""OpenAPI paths of the operations endpoints (merged into the document by ``intake.web.api``)."""

from __future__ import annotations

from typing import Any

from intake.web.api.openapi import _answer, _errors
from intake.web.api.staff_openapi import SIGNED_IN, _object, _unsafe

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
                "200": _answer(
                    "The figures: counts are integers or the words 'fewer than N' / 'withheld'",
                    {"type": "object", "required": ["year", "received"]},
                ),
                **_errors(401, 403, 422),
            },
        }
    },
    "/api/v1/cases/{ref}/export": {
        "post": {
            **_unsafe("Export the case as one self-contained HTML file (audited)", None, {}, 404),
            "responses": {
                "200": {
                    "description": "The HTML file, as an attachment",
                    "content": {"text/html": {"schema": {"type": "string"}}},
                },
                **_errors(401, 403, 404),
            },
        }
    },
    "/api/v1/cases/{ref}/legal-hold": {
        "post": _unsafe(
            "Put the case on legal hold (never deleted) or lift it (audited)",
            _object(["hold"], {"hold": {"type": "boolean"}}),
            {"200": _answer("Done", {"type": "object"})},
            400,
            404,
            413,
            422,
        )
    },
}
