"""What a Quietline email says: one generic subject, bodies without content.

A notice says only that something needs attention. A digest adds counts of
deadlines, computed from plaintext due dates. Neither carries a case
reference, a category, anything a reporter wrote, or a time: the ``Date``
header is the moment of delivery and the ``Message-ID`` is random.
"""

from __future__ import annotations

import secrets
import textwrap
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from intake import i18n
from intake.i18n import N_

# Staff's language is not stored, and an office may work in either: every email is written
# in every language the service speaks, the source language first (:func:`in_every_language`).
SUBJECT_TEXT = N_("Quietline: please sign in")
WITNESS_SUBJECT_TEXT = N_("Quietline: audit checkpoint")
GREETING = N_("Hello,")
NOTICE_TEXT = (
    N_("Something in Quietline needs your attention. Please sign in to see it."),
    N_(
        "This email says nothing more on purpose: Quietline's emails never carry case details, "
        "and they leave at a random time so that their arrival does not tell when anything "
        "happened. Every officer is sent this notice for every new report and every reporter's "
        "message, including those that went to others, so you may find nothing new for you: "
        "that is expected, and tells you nothing about any case."
    ),
)
TEST_TEXT = (
    N_("This is a test message from Quietline: the mail settings work."),
    N_("Quietline's emails never carry case details: they only ask you to sign in."),
)
WITNESS_TEXT = N_(
    "You are a witness of this Quietline instance's audit log. Please keep this email: the "
    "signed checkpoint at its end lets anyone check later that the log was not rewritten. It "
    "says how many staff actions the log held, and nothing about any case or person."
)
DIGEST_OPENING = N_("Your daily Quietline summary for the cases you hold a key to:")
DIGEST_CLOSING = N_(
    "Please sign in to see them. This email says nothing more on purpose: Quietline's emails "
    "never carry case details."
)
BETWEEN_LANGUAGES = "\n\n* * *\n\n"
WIDTH = 72


def in_every_language(paragraphs: Callable[[str], Sequence[str]]) -> str:
    """A body made of ``paragraphs(locale)`` in each language, each paragraph wrapped for a
    plain-text reader (a line starting with "  - " is a list item, kept as it is)."""
    versions = []
    for locale in i18n.available_locales():
        shown = [
            paragraph if paragraph.startswith("  - ") else _wrapped(paragraph)
            for paragraph in paragraphs(locale)
        ]
        versions.append("\n\n".join(shown))
    return BETWEEN_LANGUAGES.join(versions) + "\n"


def _wrapped(paragraph: str) -> str:
    # textwrap breaks only at ASCII spaces: French's non-breaking spaces stay whole.
    return textwrap.fill(paragraph, width=WIDTH, break_on_hyphens=False, break_long_words=False)


def in_every_subject(message: str) -> str:
    return " / ".join(
        dict.fromkeys(i18n.gettext(message, locale=locale) for locale in i18n.available_locales())
    )


SUBJECT = in_every_subject(SUBJECT_TEXT)
WITNESS_SUBJECT = in_every_subject(WITNESS_SUBJECT_TEXT)


def _said(texts: Sequence[str]) -> Callable[[str], list[str]]:
    return lambda locale: [i18n.gettext(text, locale=locale) for text in (GREETING, *texts)]


def notice_body() -> str:
    """A new report's or message's notice: that something needs attention, nothing more."""
    return in_every_language(_said(NOTICE_TEXT))


def settings_check_body() -> str:
    """`quietline mail test`: the mail settings work."""
    return in_every_language(_said(TEST_TEXT))


def witness_body(checkpoint: str) -> str:
    """An audit witness's daily email: one signed checkpoint, nothing about any case or person.

    The witness keeps it; ``quietline audit verify --checkpoints`` reads it back pasted. The
    checkpoint comes once, after the text in every language.
    """
    return f"{in_every_language(_said((WITNESS_TEXT,)))}\n{checkpoint}"


def digest_body(lines: Callable[[str], Sequence[str]]) -> str:
    """The daily digest: ``lines(locale)`` are its counts, in that language."""
    return in_every_language(
        lambda locale: [
            i18n.gettext(GREETING, locale=locale),
            i18n.gettext(DIGEST_OPENING, locale=locale),
            "\n".join(f"  - {line}" for line in lines(locale)),
            i18n.gettext(DIGEST_CLOSING, locale=locale),
        ]
    )


def footer(names: Sequence[str], address: str = "") -> str:
    """The signature every email ends with: the organisation's name (in each language it has
    one) and the service's address. Empty when no name is set."""
    shown = " · ".join(dict.fromkeys(name for name in names if name))
    if not shown:
        return ""
    return "-- \n" + shown + (f"\n{address}" if address else "") + "\n"


def sender_domain(mail_from: str) -> str:
    _, address = parseaddr(mail_from)
    return address.rpartition("@")[2] or "localhost"


def new_message_id(mail_from: str) -> str:
    """A random Message-ID. (``email.utils.make_msgid`` would embed the current time.)"""
    return f"<{secrets.token_hex(16)}@{sender_domain(mail_from)}>"


def build_message(
    *,
    mail_from: str,
    to: str,
    body: str,
    message_id: str,
    now: datetime | None = None,
    subject: str = SUBJECT,
    signature: str = "",
) -> EmailMessage:
    """The message as it leaves; ``now`` (the delivery time) is the only time in it (a witness's
    checkpoint carries the time it was signed). ``signature`` (:func:`footer`) ends the body."""
    sent_at = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(sent_at, usegmt=True)
    message["Message-ID"] = message_id
    # RFC 3834: keeps out-of-office replies and the like from answering it.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(f"{body.rstrip()}\n\n{signature}" if signature else body)
    return message
