"""Names people read for the workflow's plain values (stages, outcomes, channels, kinds of
case), as catalog message ids."""

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

CHANNEL_LABELS = {
    "web": N_("Web form"),
    "phone": N_("Phone"),
    "mail": N_("Mail"),
    "in_person": N_("In person"),
}

CASE_KIND_LABELS = {
    "report": N_("Report"),
    "reprisal": N_("Complaint of reprisal"),
}
# How a concluded case ended, in the words a reporter reads on their status page.
REPORTER_OUTCOME_LABELS = {
    "substantiated": N_("What you reported was confirmed."),
    "not_substantiated": N_("What you reported could not be confirmed."),
    "referred": N_("Your report was passed on to a body better placed to deal with it."),
    "no_action": N_("The office decided to take no further action."),
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


def channel_label(channel: str | None) -> str:
    return _label(CHANNEL_LABELS, channel)


def case_kind_label(kind: str | None) -> str:
    return _label(CASE_KIND_LABELS, kind)
def reporter_outcome_label(outcome: str | None) -> str:
    """The outcome in plain words for the reporter (the staff label for an unknown value)."""
    if outcome in REPORTER_OUTCOME_LABELS:
        return i18n.gettext(REPORTER_OUTCOME_LABELS[outcome])
    return outcome_label(outcome)


def custodian_words(roles: tuple[str, ...] | list[str]) -> str:
    """A recovery key's custodian roles as the office wrote them (its own words, so never
    translated), with hyphens and underscores read as spaces."""
    return ", ".join(role.replace("-", " ").replace("_", " ") for role in roles)
