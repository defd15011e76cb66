"""Jinja templates, shared by the reporter, staff and admin pages.

Templates speak the language of the request (intake.i18n): ``{{ _("...") }}`` and
``{{ ngettext(...) }}`` translate through the current catalog (new-style gettext: placeholders
are ``%(name)s`` keyword arguments, so a literal percent sign is written ``%%``), the ``t``
filter translates a text that comes from data (a category label), and ``link(path)`` keeps the
language a reporter switched to in links and form actions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from intake import i18n
from intake.web import dates, labels, organisation

TEMPLATES = Path(__file__).parent / "templates"


def _gettext(message: str) -> str:
    return i18n.translations(i18n.current_locale()).gettext(message)


def _ngettext(singular: str, plural: str, count: int) -> str:
    return i18n.translations(i18n.current_locale()).ngettext(singular, plural, count)


def build_environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True
    )
    environment.filters["t"] = lambda text: i18n.gettext(str(text))
    environment.filters["day"] = i18n.format_day
    environment.filters["number"] = i18n.format_number
    environment.filters["stage"] = labels.stage_label
    environment.filters["outcome"] = labels.outcome_label
    environment.filters["channel"] = labels.channel_label
    environment.filters["kind"] = labels.kind_label
    environment.filters["role"] = labels.role_label
    environment.filters["date"] = dates.day
    environment.filters["time_of_day"] = dates.time_of_day
    environment.filters["month"] = dates.month_text
    environment.filters["figure"] = labels.figure_text
    environment.filters["outcome_for_reporter"] = labels.reporter_outcome_label
    environment.globals["link"] = i18n.link
    return environment


def _switch_targets(request: Request) -> list[dict[str, str]]:
    """Where the language switch leads: this page (a GET) in each other language."""
    path = request.url.path if request.method == "GET" else "/"
    current = i18n.current_locale()
    return [
        {
            "tag": i18n.to_tag(locale),
            "name": i18n.display_name(locale),
            "href": f"{path}?{i18n.QUERY_PARAMETER}={i18n.to_tag(locale)}",
        }
        for locale in i18n.available_locales()
        if locale != current
    ]


def page_context(request: Request) -> dict[str, Any]:
    """What every page's layout needs: its language, the switch, the quick-exit address, the
    organisation's identity."""
    runtime = getattr(request.app.state, "runtime", None)
    settings = getattr(runtime, "settings", None)
    return {
        "lang": i18n.to_tag(i18n.current_locale()),
        "languages": _switch_targets(request),
        "language_param": i18n.QUERY_PARAMETER,
        "language_chosen": i18n.chosen_explicitly(),
        "quick_exit_url": getattr(settings, "quick_exit_url", None),
        **organisation.page_identity(request),
    }


templates = Jinja2Templates(env=build_environment(), context_processors=[page_context])


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> Response:
    response = templates.TemplateResponse(request, name, context or {}, status_code=status_code)
    response.headers["content-language"] = i18n.to_tag(i18n.current_locale())
    return response
