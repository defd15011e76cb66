"""Dates and times that SQLite and PostgreSQL spell differently, as SQLAlchemy expressions.

SQLite keeps a date as ISO text (``YYYY-MM-DD``): two dates compare correctly as text, but a
difference in days needs ``julianday``. PostgreSQL subtracts dates into whole days. A time read
as text is SQLite's own text, and PostgreSQL's ``to_char`` in UTC.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class days_between(FunctionElement[int]):  # noqa: N801 - reads as the SQL function it renders
    """``later - earlier`` in whole days (NULL when either is NULL)."""

    type = Integer()
    inherit_cache = True
    name = "days_between"


@compiles(days_between)
def _days_between_postgresql(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return f"({compiler.process(later, **kw)} - {compiler.process(earlier, **kw)})"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (
        f"CAST(julianday({compiler.process(later, **kw)}) - "
        f"julianday({compiler.process(earlier, **kw)}) AS INTEGER)"
    )


class stored_time_text(FunctionElement[str]):  # noqa: N801 - reads as the SQL function it renders
    """A time column as text, for readers that need the text and not a datetime (the audit
    chain's walk): PostgreSQL writes it in UTC as ISO 8601 with microseconds
    (``YYYY-MM-DDTHH:MM:SS.ffffff+00:00``, what Python's ``isoformat`` gives), so the client
    builds no datetime; SQLite returns the text it stores (``YYYY-MM-DD HH:MM:SS.ffffff``)."""

    type = String()
    inherit_cache = True
    name = "stored_time_text"


@compiles(stored_time_text)
def _stored_time_text_postgresql(
    element: stored_time_text, compiler: SQLCompiler, **kw: Any
) -> str:
    (column,) = list(element.clauses)
    return (
        f"to_char({compiler.process(column, **kw)} AT TIME ZONE 'UTC', "
        '\'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"\')'
    )


@compiles(stored_time_text, "sqlite")
def _stored_time_text_sqlite(element: stored_time_text, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = list(element.clauses)
    return compiler.process(column, **kw)
