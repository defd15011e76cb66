"""Jinja templates, shared by the reporter, staff and admin pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

TEMPLATES = Path(__file__).parent / "templates"


def build_environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    return environment


templates = Jinja2Templates(env=build_environment())


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> Response:
    return templates.TemplateResponse(request, name, context or {}, status_code=status_code)
