"""The guidance a reporter reads before the form, and the operator's own versions of it.

The built-in texts are templates (``templates/reporter/guide/<slug>.html``) translated through
the catalogs. An operator replaces one page in one language by writing an HTML fragment to
``<guidance dir>/<slug>.<language>.html`` (for example ``other-channels.fr-CA.html``; a file
named for the language alone, ``other-channels.fr.html``, serves every variant of it). The
fragment is a Jinja template with the same values as the built-in page (``ack_days``,
``feedback_months``, ``business_days``, ``custody``), so deadlines stay in step with the
settings and custody with the recipient directory. The
operator is trusted: the fragment is HTML and is not escaped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from intake import i18n
from intake.accounts import trusted
from intake.casework import deadline_settings
from intake.config import Settings
from intake.i18n import N_
from intake.runtime import Runtime


@dataclass(frozen=True)
class GuidePage:
    slug: str
    title: str
    summary: str


PAGES = (
    GuidePage(
        "process",
        N_("What happens to your report"),
        N_("who reads it, and the deadlines the office keeps."),
    ),
    GuidePage(
        "anonymity",
        N_("Staying anonymous"),
        N_("how to report without being identified, and what files reveal."),
    ),
    GuidePage(
        "other-channels",
        N_("Other places to report"),
        N_("outside bodies you may go to instead, or as well."),
    ),
)
BY_SLUG = {page.slug: page for page in PAGES}


async def deadline_values(runtime: Runtime) -> dict[str, Any]:
    """The deadlines in force, as administrators set them (else the starting settings)."""
    async with runtime.sessions() as session:
        rules = await deadline_settings.current_rules(session, runtime)
    return {
        "ack_days": rules.ack_days,
        "feedback_months": rules.feedback_months,
        "business_days": rules.clock == "business",
    }


async def custody_values(runtime: Runtime) -> dict[str, Any]:
    """Who, besides a group's officers, could open a report routed to it: that group's recovery
    custodians acting together, as the verified directory names them (roles, never names), so
    the guidance says it truthfully. ``custody`` maps ``default`` and ``alternate`` to the
    threshold and the roles; a group the directory gives no key is left out."""
    settings = runtime.settings
    async with runtime.sessions() as session:
        state = await trusted.directory_state(session, runtime)
    custody: dict[str, dict[str, Any]] = {}
    groups = (("default", settings.default_group), ("alternate", settings.alternate_group))
    for which, group in groups:
        declared = state.recovery.get(group) if state is not None else None
        if declared is not None:
            custody[which] = {
                "threshold": declared.threshold,
                "roles": ", ".join(declared.custodians),
            }
    return {"custody": custody}


async def page_values(runtime: Runtime) -> dict[str, Any]:
    """What every guidance page (built in or the operator's) may show: deadlines and custody."""
    return {**await deadline_values(runtime), **await custody_values(runtime)}


def override_file(settings: Settings, slug: str, locale: str) -> Path | None:
    """The operator's file for this page in this language, if there is one."""
    if settings.guidance_dir is None or slug not in BY_SLUG:
        return None
    tag = i18n.to_tag(locale)
    for name in dict.fromkeys((tag, tag.split("-")[0])):
        candidate = settings.guidance_dir / f"{slug}.{name}.html"
        if candidate.is_file():
            return candidate
    return None


def render_override(environment: jinja2.Environment, path: Path, values: dict[str, Any]) -> Markup:
    """The operator's fragment, rendered with the page's values (read on each request, so an
    edit shows at once)."""
    source = path.read_text(encoding="utf-8")
    # The operator's own HTML, from a folder only the operator can write (SECURITY.md).
    return Markup(environment.from_string(source).render(values))  # noqa: S704  # nosec B704
