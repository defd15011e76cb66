"""Closing a case with an answer to the reporter.

Concluding a case takes a message to the reporter (sent as an ordinary office message, which
also meets the feedback deadline) or the officer's reason why no message can be sent. This
module holds the message drafted for each outcome, in any language of the catalogs, and the
check of what the officer chose. The reporter's language is not stored (it could help identify
them), so the draft is offered in the officer's language, with the other languages one link
away.
"""

from __future__ import annotations

from dataclasses import dataclass

from intake import i18n
from intake.casework import records
from intake.casework.vocabulary import Outcome
from intake.errors import InvalidInput
from intake.i18n import N_

# Notes are limited as workflow.MAX_NOTE_CHARS; kept here so workflow can import this module.
MAX_REASON_CHARS = 20_000

#: The parts of a draft the officer must replace with the case's own words.
PLACEHOLDERS = (
    i18n.Phrase(N_("[name of the body]")),
    i18n.Phrase(N_("[the reason you can share]")),
)

DRAFTS: dict[Outcome, str] = {
    Outcome.SUBSTANTIATED: N_(
        "Thank you for your report. We have finished looking into it, and what you reported "
        "was confirmed. The office is taking steps to put it right. We cannot share every "
        "detail, but your report made a difference. This case is now closed; you can still "
        "read this page with your token."
    ),
    Outcome.NOT_SUBSTANTIATED: N_(
        "Thank you for your report. We looked into it carefully, but with the information we "
        "found we could not confirm what was reported. This does not mean your concern was not "
        "taken seriously. This case is now closed; you can still read this page with your "
        "token, and send us anything new you learn."
    ),
    Outcome.REFERRED: N_(
        "Thank you for your report. We have passed it on to a body better placed to deal "
        "with it: [name of the body]. This case is now closed here; you can still read this "
        "page with your token."
    ),
    Outcome.NO_ACTION: N_(
        "Thank you for your report. After assessing it, the office has decided to take no "
        "further action, because [the reason you can share]. This case is now closed; you can "
        "still read this page with your token."
    ),
}


def draft(outcome: Outcome, locale: str) -> str:
    """The message drafted for ``outcome``, in ``locale`` (English when it has no catalog)."""
    return i18n.Phrase(DRAFTS[outcome]).localized(locale)


def drafts(locale: str) -> dict[str, str]:
    """Every outcome's draft in ``locale``, by outcome."""
    return {outcome.value: draft(outcome, locale) for outcome in Outcome}


def placeholders() -> set[str]:
    """The placeholders of the drafts, in every language: a message holding one is refused."""
    return {
        placeholder.localized(locale)
        for placeholder in PLACEHOLDERS
        for locale in i18n.available_locales()
    }


@dataclass(frozen=True)
class ClosingWords:
    """What the officer chose when concluding: a message to the reporter, or why none."""

    message: str | None = None
    no_message_reason: str | None = None


def closing_words(
    message: str | None, no_message_reason: str | None, *, message_limit: int
) -> ClosingWords:
    """Exactly one of the two, checked as text that can be stored; else InvalidInput."""
    has_message = bool(message and message.strip())
    has_reason = bool(no_message_reason and no_message_reason.strip())
    if has_message and has_reason:
        raise InvalidInput(
            N_(
                "Either send a message to the reporter or say why none can be sent, not both. "
                "To conclude without a message, empty the message."
            ),
            field="message",
        )
    if not has_message and not has_reason:
        raise InvalidInput(
            N_(
                "The reporter must be told how their report ended: write a message to them, "
                "or say why no message can be sent."
            ),
            field="message",
        )
    if message and has_message:
        if any(placeholder in message for placeholder in placeholders()):
            raise InvalidInput(
                N_("The message still has a part in square brackets: replace it with your words."),
                field="message",
            )
        checked = records.check_text(
            message, limit=message_limit, what="message", field_name="message"
        )
        return ClosingWords(message=checked)
    reason = records.check_text(
        no_message_reason or "",
        limit=MAX_REASON_CHARS,
        what="text",
        field_name="no_message_reason",
    )
    return ClosingWords(no_message_reason=reason)
