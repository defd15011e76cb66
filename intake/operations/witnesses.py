"""The audit witnesses' daily email: the latest signed checkpoint, through the outbox.

Once a day (from ``QUIETLINE_MAIL_DIGEST_HOUR``, in the office's time zone), across every
process, a fresh checkpoint is signed and queued to each address of
``QUIETLINE_AUDIT_WITNESSES`` in the same transaction, so a mail server that is down delays it
and never loses it. The email holds the checkpoint and a fixed text, nothing about any case or
person: the count of staff actions logged is all it says about the office.
"""

from __future__ import annotations

import json
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.mail.compose import witness_body
from intake.mail.outbox import queue_witness_mail
from intake.operations import audit, checkpoints
from intake.runtime import Runtime
from intake.storage import db
from intake.storage.models import Setting

LAST_WITNESS_MAIL_KEY = "audit_witness_mail_day"


async def _claim_day(session: AsyncSession, today: date) -> bool:
    """True once per day across every process: records that today's emails are queued."""
    row = (
        await session.exec(
            select(Setting).where(Setting.key == LAST_WITNESS_MAIL_KEY).with_for_update()
        )
    ).first()
    if row is not None and json.loads(row.value) >= today.isoformat():
        return False
    if row is None:
        row = Setting(key=LAST_WITNESS_MAIL_KEY, value="")
    row.value = json.dumps(today.isoformat())
    session.add(row)
    await session.flush()  # two processes inserting at once: one fails here, and retries later
    return True


async def mail_witnesses(runtime: Runtime, *, once_a_day: bool = True) -> int:
    """Sign a checkpoint and queue it to every witness; how many emails were queued (0 when
    there are no witnesses, or today's went already)."""
    addresses = runtime.settings.audit_witnesses
    if not addresses:
        return 0
    local_now = runtime.now().astimezone(ZoneInfo(runtime.settings.timezone))
    if once_a_day and local_now.hour < runtime.settings.mail_digest_hour:
        return 0
    try:
        async with db.transaction(runtime.sessions) as session:
            if once_a_day and not await _claim_day(session, local_now.date()):
                return 0
            checkpoint = await audit.add_checkpoint_now(session)
            queued = queue_witness_mail(
                session, runtime.settings, addresses, witness_body(checkpoint.text())
            )
    except IntegrityError:  # another process claimed today at the same moment: it mails them
        return 0
    await checkpoints.written()
    return queued
