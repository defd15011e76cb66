"""Promise 5 on every page and API read: odd values in the query string get a page or a clear
refusal, never a 500.

Each GET route the app has, its path parameters filled with a real-looking and an odd value,
is asked with each query parameter the app reads and a few odd values (other scripts' digits, a
negative, a number too large for any column, a day that does not exist, a long text), by an
officer and by an administrator, who between them reach every route.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
from starlette.routing import BaseRoute, Mount, Route

from intake.web.app import create_app
from tests.support.instance import Instance
from tests.support.staffing import sign_in

PEOPLE = ("officer1@example.org", "admin@example.org")
QUERY_NAMES = (
    "limit", "after", "year", "since", "until", "stage", "category", "sort", "q", "format",
    "lang", "kind", "case", "actor", "overdue", "mine",
)  # fmt: skip
ODD_VALUES = ("²", "٣", "-1", "99999999999999999999", "2026-02-30", "x" * 3000)
PATH_VALUES = ("QL-2026-0001", "²", "x" * 300)


def _get_routes(routes: Sequence[BaseRoute], prefix: str = "") -> Iterator[str]:
    for route in routes:
        if isinstance(route, Mount) and not route.path.startswith("/static"):
            yield from _get_routes(route.routes, prefix + route.path)
        elif isinstance(route, Route) and "GET" in (route.methods or ()):
            yield prefix + route.path


def _paths(template: str) -> list[str]:
    if "{" not in template:
        return [template]
    return [re.sub(r"\{[^}]+\}", value, template) for value in PATH_VALUES]


async def test_every_get_route_answers_odd_query_values_without_a_500(
    sqlite_client: httpx.AsyncClient, sqlite_seeded: Instance
) -> None:
    app = create_app(sqlite_seeded.settings, runtime=sqlite_seeded.runtime)
    templates = sorted(set(_get_routes(app.routes)))
    assert "/staff/stats" in templates and "/api/v1/cases/{ref}" in templates
    failures: list[tuple[Any, ...]] = []
    for email in PEOPLE:
        person = await sign_in(sqlite_seeded, sqlite_client, email)
        for path in (path for template in templates for path in _paths(template)):
            for name, value in itertools.product(QUERY_NAMES, ODD_VALUES):
                answer = await person.get(path, {name: value})
                if answer.status_code >= 500:
                    failures.append((email, path[:40], name, value[:20], answer.status_code))
    assert not failures, failures
