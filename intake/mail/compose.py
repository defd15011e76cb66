"""What a Quietline email says: one generic subject, bodies without content.

A notice says only that something needs attention. A digest adds counts of
deadlines, computed from plaintext due dates. Neither carries a case
reference, a category, anything a reporter wrote, or a time: the ``Date``
header is the moment of delivery and the ``Message-ID`` is random.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

SUBJECT = "Quietline: please sign in"
WITNESS_SUBJECT = "Quietline: audit checkpoint"

NOTICE_BODY = """\
Hello,

Something in Quietline needs your attention. Please sign in to see it.

This email says nothing more on purpose: Quietline's emails never carry case
details, and they leave at a random time so that their arrival does not tell
when anything happened. Every officer is sent this notice for every new report
and every reporter's message, including those that went to others, so you may
find nothing new for you: that is expected, and tells you nothing about any
case.
"""

TEST_BODY = """\
Hello,

This is a test message from Quietline: the mail settings work.

Quietline's emails never carry case details: they only ask you to sign in.
"""


def witness_body(checkpoint: str) -> str:
    """An audit witness's daily email: one signed checkpoint, nothing about any case or person.

    The witness keeps it; ``quietline audit verify --checkpoints`` reads it back pasted.
    """
    return (
        "Hello,\n\n"
        "You are a witness of this Quietline instance's audit log. Please keep this email:\n"
        "the signed checkpoint below lets anyone check later that the log was not rewritten.\n"
        "It says how many staff actions the log held, and nothing about any case or person.\n\n"
        f"{checkpoint}"
    )


def digest_body(lines: Sequence[str]) -> str:
    listed = "\n".join(f"  - {line}" for line in lines)
    return (
        "Hello,\n\n"
        "Your daily Quietline summary for the cases you hold a key to:\n\n"
        f"{listed}\n\n"
        "Please sign in to see them. This email says nothing more on purpose: Quietline's\n"
        "emails never carry case details.\n"
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
