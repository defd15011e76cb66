"""The daily digest: counts of deadlines only, once a day, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col, select

from intake.mail import set_notify_mode
from intake.mail.worker import MailWorker
from intake.storage import db
from intake.storage.models import Case, Staff
from tests.integration.test_mail_delivery import (
    CATEGORY,
    CATEGORY_LABEL,
    MARKER,
    OFFICERS,
    assert_content_free,
    case_refs,
    drained,
    mail_runtime,
)
from tests.support import casefactory
from tests.support.instance import Instance
from tests.support.mail import FAST_MAIL, SmtpServer


async def test_daily_digest_lists_counts_only(
    seeded: Instance, smtp_servers: Callable[..., SmtpServer]
) -> None:
    smtp = smtp_servers()
    runtime = mail_runtime(seeded, **{**FAST_MAIL, **smtp.settings(), "mail_digest_hour": 0})
    async with db.transaction(runtime.sessions) as session:
        person = (
            await session.exec(select(Staff).where(Staff.email == "officer2@example.org"))
        ).one()
        await set_notify_mode(session, person, "digest")
    tokens = [
        (await casefactory.file_report(runtime, category=CATEGORY, body=f"{MARKER} case {n}"))[0]
        for n in range(6)
    ]
    today = runtime.today()
    async with db.transaction(runtime.sessions) as session:
        ids = list((await session.exec(select(Case.id).order_by(col(Case.ref)))).all())
        due = {
            ids[0]: {"ack_due": today},
            ids[1]: {"ack_due": today},
            ids[2]: {"ack_due": today - timedelta(days=2)},
            ids[3]: {"ack_due": today + timedelta(days=2)},
            # Past its feedback date, but the office's first message was the feedback.
            ids[4]: {
                "stage": "acknowledged",
                "acknowledged_on": today - timedelta(days=100),
                "feedback_due": today - timedelta(days=1),
                "first_reply_on": today - timedelta(days=20),
            },
            ids[5]: {
                "stage": "acknowledged",
                "acknowledged_on": today - timedelta(days=100),
                "feedback_due": today - timedelta(days=1),
            },
        }
        for case_id, values in due.items():
            await session.exec(update(Case).where(col(Case.id) == case_id).values(**values))

    worker = MailWorker(runtime)
    await worker.run_once()  # queues today's digests, then sends what is due
    await drained(runtime)
    # Once a day, whichever process asks (here a second worker, as in another process).
    assert await MailWorker(runtime).queue_digests_if_due() is None

    received = smtp.messages()
    digests = {m.rcpt_tos[0]: m for m in received if "daily Quietline summary" in m.body}
    notices = sorted(m.rcpt_tos[0] for m in received if "daily Quietline summary" not in m.body)
    # A digest for each holder of these cases (the solicitor's officers), none for the alternate
    # officer, who holds none of them.
    assert sorted(digests) == [person for person in OFFICERS if person.startswith("officer")]
    # Officer two chose the digest: no separate notice, their digest says there is activity.
    # The alternate officer was told of each report too, as every receiving officer is.
    assert notices == ["alternate@example.org", "officer1@example.org", "officer3@example.org"]
    counts = [
        "1 case is past its acknowledgement deadline",
        "2 cases need acknowledgement today",
        "1 case needs acknowledgement within 3 days",
        "1 case is past its feedback deadline",
    ]
    activity = "There is new activity on your cases since the last summary."
    # Then the same in French (staff's language is not stored: every email speaks both).
    in_french = [
        "1 dossier a dépassé son délai de confirmation de réception",
        "2 dossiers attendent une confirmation de réception aujourd'hui",
        "1 dossier attend une confirmation de réception d'ici 3\u00a0jours",
        "1 dossier a dépassé son délai de suivi",
    ]
    activity_in_french = "Il y a du nouveau dans vos dossiers depuis le dernier sommaire."
    for email, message in digests.items():
        listed = [line[4:] for line in message.body.splitlines() if line.startswith("  - ")]
        active = email == "officer2@example.org"
        assert listed == [
            *counts,
            *([activity] if active else []),
            *in_french,
            *([activity_in_french] if active else []),
        ]
        assert_content_free(
            message, [MARKER, CATEGORY, CATEGORY_LABEL, *tokens, *await case_refs(runtime)]
        )
