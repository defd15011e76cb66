"""The JSON API, ``/api/v1/``. Tokens travel in request bodies, never in URLs."""

from __future__ import annotations

from starlette.routing import BaseRoute

from intake.api import openapi, reporter

routes: list[BaseRoute] = [*reporter.routes, *openapi.routes]
