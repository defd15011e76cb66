"""The names people read for the workflow's stored values, translated (the names themselves are in
``intake/casework/wording.py``)."""

from __future__ import annotations

import re

from intake import i18n
from intake.casework import wording
from intake.i18n import N_

STAGE_LABELS = wording.STAGE_NAMES
OUTCOME_LABELS = wording.OUTCOME_NAMES
CHANNEL_LABELS = wording.CHANNEL_NAMES
KIND_LABELS = wording.KIND_NAMES
ROLE_LABELS = wording.ROLE_NAMES

CASE_KIND_LABELS = KIND_LABELS
# How a concluded case ended, in the words a reporter reads on their status page.
REPORTER_OUTCOME_LABELS = {
    "substantiated": N_("What you reported was confirmed."),
    "not_substantiated": N_("What you reported could not be confirmed."),
    "referred": N_("Your report was passed on to a body better placed to deal with it."),
    "no_action": N_("The office decided to take no further action."),
}


role_phrase = wording.role_phrase


def _label(labels: dict[str, str], value: str | None) -> str:
    named = wording.name_of(labels, value)
    return i18n.gettext(named) if value in labels else named


def stage_label(stage: str | None) -> str:
    return _label(STAGE_LABELS, stage)


def role_label(role: str | None) -> str:
    return _label(ROLE_LABELS, role)


def outcome_label(outcome: str | None) -> str:
    return _label(OUTCOME_LABELS, outcome)


def channel_label(channel: str | None) -> str:
    return _label(CHANNEL_LABELS, channel)


def kind_label(kind: str | None) -> str:
    return _label(KIND_LABELS, kind)


case_kind_label = kind_label


def reporter_outcome_label(outcome: str | None) -> str:
    """The outcome in plain words for the reporter (the staff label for an unknown value)."""
    if outcome in REPORTER_OUTCOME_LABELS:
        return i18n.gettext(REPORTER_OUTCOME_LABELS[outcome])
    return outcome_label(outcome)


def custodian_words(roles: tuple[str, ...] | list[str]) -> str:
    """A recovery key's custodian roles as the office wrote them (its own words, so never
    translated), with hyphens and underscores read as spaces."""
    return ", ".join(role.replace("-", " ").replace("_", " ") for role in roles)


# The words the annual statistics give a hidden figure (intake/operations/stats.py: publish),
# as catalog message ids.
_FEWER = re.compile(r"fewer than (\d+)( cases)?")
FIGURE_WORDS = {
    "withheld": N_("withheld"),
    "fewer": N_("fewer than %(n)s"),
    "fewer cases": N_("fewer than %(n)s cases"),
}


def figure_text(value: object) -> str:
    """A published figure as the page's reader reads it: a number as it is, a hidden one in the
    page's language ("fewer than 5" → "moins de 5")."""
    if not isinstance(value, str):
        return "—" if value is None else str(value)
    found = _FEWER.fullmatch(value)
    if found:
        words = FIGURE_WORDS["fewer cases" if found.group(2) else "fewer"]
        return i18n.gettext(words, {"n": found.group(1)})
    if value == "withheld":
        return i18n.gettext(FIGURE_WORDS["withheld"])
    return value
