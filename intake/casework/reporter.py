"""The reporter's side of a filed case, reached by nothing but the case token: its status and
the messages with the office, and the reporter's own messages.

The token opens the case's data key (intake/casework/access.py) and is never stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, bindparam, exists
from sqlalchemy import select as sa_select
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

import crypto
from intake import mail
from intake.attachments.prepare import PreparedAttachment
from intake.attachments.staging import StagedFile
from intake.casework import access, epochs, records, routing
from intake.casework.case_files import (
    AttachmentOutcome,
    charge_budget,
    prepare_attachments,
    save_attachments,
)
from intake.casework.vocabulary import Author, EntryKind, Outcome, Stage
from intake.runtime import Runtime
from intake.storage import db
from intake.storage.models import Case, CaseIdentity, Entry


@dataclass(frozen=True)
class Message:
    sender: Author
    body: str
    on: date


@dataclass(frozen=True)
class CaseStatus:
    stage: Stage
    received_on: date
    ack_due: date | None
    # None once feedback was given: the office's first message, or the conclusion.
    feedback_due: date | None
    outcome: Outcome | None
    concluded_on: date | None = None
    messages: list[Message] = field(default_factory=list)
    case_id: str = ""
    # The reporter gave a name under seal (intake/casework/identity.py).
    confidential: bool = False


async def open_for_writing(
    session: AsyncSession, runtime: Runtime, token_text: str
) -> tuple[Case, crypto.KeyEpochs]:
    """The case (row locked) and the keys to write with: the reporter holds every epoch's key,
    so a new epoch begins here where one is due (intake/casework/epochs.py)."""
    canonical = access.canonical_token(token_text)
    lookup = crypto.token_lookup_key(runtime.secrets.token_pepper, canonical)
    found = (
        await session.exec(select(Case).where(Case.lookup == lookup).with_for_update())
    ).first()
    case, keys = access.open_by_token(canonical, found)
    return case, await epochs.keys_for_writing(session, runtime, case, keys)


_CASE_TABLE = Case.__table__  # type: ignore[attr-defined]
_ENTRY_TABLE = Entry.__table__  # type: ignore[attr-defined]
_IDENTITY_TABLE = CaseIdentity.__table__  # type: ignore[attr-defined]

# The reporter's status page is the busiest read: one Core statement (the case and its
# messages, joined) on a bare connection, without the ORM's unit of work.
_STATUS = (
    sa_select(
        _CASE_TABLE.c.id,
        _CASE_TABLE.c.salt,
        _CASE_TABLE.c.reporter_wrap,
        _CASE_TABLE.c.reporter_sealed,
        _CASE_TABLE.c.stage,
        _CASE_TABLE.c.received_on,
        _CASE_TABLE.c.acknowledged_on,
        _CASE_TABLE.c.ack_due,
        _CASE_TABLE.c.feedback_due,
        _CASE_TABLE.c.outcome,
        _CASE_TABLE.c.concluded_on,
        _CASE_TABLE.c.first_reply_on,
        _CASE_TABLE.c.purged_on,
        # Whether the reporter gave a name under seal: the status page then says what became
        # of it (intake/casework/identity.py); read here so an anonymous case costs nothing more.
        exists().where(_IDENTITY_TABLE.c.case_id == _CASE_TABLE.c.id).label("confidential"),
        _ENTRY_TABLE.c.id.label("message_id"),
        _ENTRY_TABLE.c.author.label("message_author"),
        _ENTRY_TABLE.c.on.label("message_on"),
        _ENTRY_TABLE.c.body.label("message_body"),
        _ENTRY_TABLE.c.seq.label("message_seq"),
        _ENTRY_TABLE.c.position.label("message_position"),
        _ENTRY_TABLE.c.epoch.label("message_epoch"),
    )
    .select_from(
        _CASE_TABLE.outerjoin(
            _ENTRY_TABLE,
            and_(
                _ENTRY_TABLE.c.case_id == _CASE_TABLE.c.id,
                _ENTRY_TABLE.c.kind == EntryKind.MESSAGE.value,
            ),
        )
    )
    .where(_CASE_TABLE.c.lookup == bindparam("lookup"))
)


@dataclass(frozen=True)
class _Placed:
    """A message row as :func:`records.entry_position` reads it."""

    id: str
    case_id: str
    seq: int
    position: bytes | None
    epoch: int


async def status_by_token(runtime: Runtime, token_text: str) -> CaseStatus:
    canonical = access.canonical_token(token_text)
    lookup = crypto.token_lookup_key(runtime.secrets.token_pepper, canonical)
    async with db.single_statement(runtime.engine) as connection:
        rows = (await connection.execute(_STATUS, {"lookup": lookup})).all()
    case, keys = access.open_by_token(canonical, rows[0] if rows else None)
    rows_confidential = rows[0].confidential
    # In the order written: the stored rows do not say it (the place is encrypted).
    rows = [row for row in rows if row.message_id is not None]
    rows.sort(
        key=lambda row: records.entry_position(
            keys,
            _Placed(
                row.message_id, case.id, row.message_seq, row.message_position, row.message_epoch
            ),
        )
    )
    messages = [
        Message(
            sender=Author.REPORTER if row.message_author == Author.REPORTER else Author.OFFICE,
            body=keys.fields(row.message_epoch)
            .decrypt(
                row.message_body,
                case_id=case.id,
                field=records.entry_field(EntryKind.MESSAGE, row.message_id),
            )
            .decode("utf-8"),
            on=row.message_on,
        )
        for row in rows
    ]
    feedback_given = (
        case.first_reply_on is not None
        or case.concluded_on is not None
        or any(message.sender == Author.OFFICE for message in messages)
    )
    return CaseStatus(
        stage=Stage(case.stage),
        received_on=case.received_on,
        ack_due=case.ack_due if case.acknowledged_on is None else None,
        feedback_due=None if feedback_given else case.feedback_due,
        outcome=Outcome(case.outcome) if case.outcome else None,
        concluded_on=case.concluded_on,
        messages=messages,
        case_id=case.id,
        confidential=bool(rows_confidential),
    )


async def add_reporter_message(
    runtime: Runtime, token_text: str, body: str, *, files: Sequence[StagedFile] = ()
) -> list[AttachmentOutcome]:
    """Add a reporter's message, with its attachments, in one transaction."""
    if not (files and not body.strip()):
        body = records.check_text(
            body, limit=runtime.settings.max_message_chars, what="message", field_name="body"
        )
    with ExitStack() as stack:
        prepared: list[PreparedAttachment] = []
        files_epoch, files_key = crypto.FIRST_EPOCH, b""
        if files:
            # Files are encrypted before the write, with the key of the epoch they are sent in.
            async with db.transaction(runtime.sessions) as session:
                case, keys = await open_for_writing(session, runtime, token_text)
            files_epoch, files_key = keys.current, keys.latest
            prepared = await prepare_attachments(
                runtime, stack, files, data_key=files_key, case_id=case.id
            )
        async with db.transaction(runtime.sessions) as session:
            case, keys = await open_for_writing(session, runtime, token_text)
            seq = await records.next_seq(session, case.id)
            entry = records.encrypted_entry(
                keys,
                case_id=case.id,
                seq=seq,
                kind=EntryKind.MESSAGE,
                author=Author.REPORTER,
                on=runtime.today(),
                body=body,
            )
            session.add(entry)
            await session.flush()
            outcomes = await save_attachments(
                session, files_key, prepared, case_id=case.id, entry_id=entry.id, epoch=files_epoch
            )
            # The same people whatever the case's routing (intake/mail/outbox.py).
            people = await mail.reporter_audience(
                session,
                groups=routing.receiving_groups(runtime.settings),
                roles=routing.RECEIVING_ROLES,
                case_id=case.id,
            )
            await mail.queue_notices(session, runtime.settings, people)
            await charge_budget(session, runtime, prepared)
            return outcomes
