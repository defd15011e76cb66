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
from intake.accounts.directory_rules import DirectoryState
from intake.casework import deadline_settings
from intake.casework.routing import group_display_name
from intake.config import Settings
from intake.i18n import N_
from intake.runtime import Runtime
from intake.web.labels import custodian_words


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
        "confidential",
        N_("Anonymous or confidential?"),
        N_("reporting without your name, or with it under seal."),
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


@dataclass(frozen=True)
class Readers:
    """Who can open a report routed to one group: its intake officers, and ``threshold`` of the
    custodians of its recovery key acting together (None where the verified directory names no
    recovery key for it). ``group`` is the group's name as a catalog message id."""

    group: str
    threshold: int | None
    custodians: str


def readers_of(settings: Settings, state: DirectoryState | None) -> list[Readers]:
    """For the default group, then the alternate group, who can open a report sent to it, as
    the verified recipient directory ``state`` says: the custodians' roles and how many must
    act together."""
    found = []
    for group in (settings.default_group, settings.alternate_group):
        recovery = state.recovery.get(group) if state is not None else None
        found.append(
            Readers(
                group=group_display_name(settings, group),
                threshold=recovery.threshold if recovery is not None else None,
                custodians=custodian_words(recovery.custodians) if recovery is not None else "",
            )
        )
    return found


async def readers(runtime: Runtime) -> list[Readers]:
    async with runtime.sessions() as session:
        state = await trusted.directory_state(session, runtime)
    return readers_of(runtime.settings, state)


async def guide_values(runtime: Runtime) -> dict[str, Any]:
    """What every guidance page (built in or the operator's) is rendered with."""
    return {**await deadline_values(runtime), "readers": await readers(runtime)}


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
