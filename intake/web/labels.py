"""Names people read for the workflow's plain values (stages, outcomes), as catalog message ids."""

from __future__ import annotations

from intake import i18n
from intake.i18n import N_

STAGE_LABELS = {
    "received": N_("Received"),
    "acknowledged": N_("Acknowledged"),
    "assessing": N_("Being assessed"),
    "investigating": N_("Under investigation"),
    "concluded": N_("Concluded"),
}

OUTCOME_LABELS = {
    "substantiated": N_("Substantiated"),
    "not_substantiated": N_("Not substantiated"),
    "referred": N_("Referred to another body"),
    "no_action": N_("No action taken"),
}


ROLE_LABELS = {
    "officer": N_("Intake officer"),
    "investigator": N_("Investigator"),
    "admin": N_("Administrator"),
    "custodian": N_("Identity custodian"),
}


def role_phrase(role: str) -> i18n.Phrase | str:
    """A staff role as a parameter of a sentence, translated with it (unknown roles as is)."""
    return i18n.Phrase(ROLE_LABELS[role]) if role in ROLE_LABELS else role


def _label(labels: dict[str, str], value: str | None) -> str:
    if not value:
        return ""
    known = labels.get(value)
    return i18n.gettext(known) if known else value.replace("_", " ").capitalize()


def stage_label(stage: str | None) -> str:
    return _label(STAGE_LABELS, stage)


def role_label(role: str | None) -> str:
    return _label(ROLE_LABELS, role)


def outcome_label(outcome: str | None) -> str:
    return _label(OUTCOME_LABELS, outcome)


def custodian_words(roles: tuple[str, ...] | list[str]) -> str:
    """A recovery key's custodian roles as the office wrote them (its own words, so never
    translated), with hyphens and underscores read as spaces."""
    return ", ".join(role.replace("-", " ").replace("_", " ") for role in roles)
