"""The names people read for the workflow's stored values (stages, outcomes, channels, kinds of
case, roles), as catalog message ids: one list for every page, email and export, so a raw value
("assessing", "in_person") is never what a person reads. The web layer translates them
(``intake/web/labels.py``); the case export, written in English, shows them as they are.
"""

from __future__ import annotations

from intake.i18n import N_, Phrase

STAGE_NAMES = {
    "received": N_("Received"),
    "acknowledged": N_("Acknowledged"),
    "assessing": N_("Being assessed"),
    "investigating": N_("Under investigation"),
    "concluded": N_("Concluded"),
}

OUTCOME_NAMES = {
    "substantiated": N_("Substantiated"),
    "not_substantiated": N_("Not substantiated"),
    "referred": N_("Referred to another body"),
    "no_action": N_("No action taken"),
}

CHANNEL_NAMES = {
    "web": N_("Web form"),
    "phone": N_("Phone"),
    "mail": N_("Mail"),
    "in_person": N_("In person"),
}

KIND_NAMES = {
    "report": N_("Report"),
    "reprisal": N_("Complaint of reprisal"),
}

ROLE_NAMES = {
    "officer": N_("Intake officer"),
    "investigator": N_("Investigator"),
    "admin": N_("Administrator"),
    "custodian": N_("Identity custodian"),
}


def name_of(names: dict[str, str], value: str | None) -> str:
    """The message id of ``value``'s name; a value with no name is written out plainly
    ("some_value" → "Some value"); none is an empty string."""
    if not value:
        return ""
    return names.get(value) or value.replace("_", " ").capitalize()


def role_phrase(role: str) -> Phrase | str:
    """A staff role as a parameter of a sentence, translated with it (unknown roles as is)."""
    return Phrase(ROLE_NAMES[role]) if role in ROLE_NAMES else role
