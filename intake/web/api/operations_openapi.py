"""OpenAPI paths of the operations endpoints (merged into the document by ``intake.web.api``)."""

from __future__ import annotations

from typing import Any

from intake.web.api.openapi import error_answers, json_answer
from intake.web.api.staff_openapi import SIGNED_IN, object_schema, unsafe_operation

LANG = {
    "name": "lang",
    "in": "query",
    "description": "The language of the file (en, fr-CA); without it, Accept-Language",
    "schema": {"type": "string"},
}

OPERATIONS_PATHS: dict[str, Any] = {
    "/api/v1/stats": {
        "get": {
            "summary": "Annual statistics for council (small counts shown as 'fewer than N'); "
            "format=csv for a table, format=pdf for the report for council in the request's "
            "language (lang or Accept-Language)",
            "security": SIGNED_IN,
            "parameters": [
                {"name": "year", "in": "query", "schema": {"type": "integer"}},
                {"name": "format", "in": "query", "schema": {"enum": ["json", "csv", "pdf"]}},
                LANG,
            ],
            "responses": {
                "200": {
                    "description": "The figures: counts are integers or the words 'fewer than "
                    "N' / 'withheld'; or the CSV table, or the PDF report for council",
                    "content": {
                        "application/json": {
                            "schema": {"type": "object", "required": ["year", "received"]}
                        },
                        "text/csv": {"schema": {"type": "string"}},
                        "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                    },
                },
                **error_answers(401, 403, 422),
            },
        }
    },
    "/api/v1/cases/{ref}/export": {
        "post": {
            **unsafe_operation(
                "Export the case as one self-contained HTML file, or as a PDF (audited, with "
                "the format), in the request's language",
                None,
                {},
                404,
            ),
            "parameters": [
                *unsafe_operation("", None, {}, 404)["parameters"],
                {"name": "format", "in": "query", "schema": {"enum": ["html", "pdf"]}},
                LANG,
            ],
            "responses": {
                "200": {
                    "description": "The HTML file or the PDF, as an attachment",
                    "content": {
                        "text/html": {"schema": {"type": "string"}},
                        "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                    },
                },
                **error_answers(401, 403, 404, 422),
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
