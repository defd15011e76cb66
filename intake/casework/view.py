"""What a staff member sees of a case they hold a key to: the case view (every entry decrypted,
the holders, the files) and the opening of one of its files for download. Each read is audited
in its transaction; nothing decrypted is cached or written anywhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import bindparam
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.accounts.sessions import SignedIn
from intake.attachments import store as attachment_store
from intake.attachments.store import StoredAttachment
from intake.casework import access, eligibility, questionnaires, records, retention, workflow
from intake.casework.questionnaires import ShownAnswer
from intake.casework.vocabulary import Author, CaseKind, Channel, EntryKind, Outcome, Role, Stage
from intake.errors import CaseNotFound
from intake.i18n import N_
from intake.operations import audit
from intake.runtime import Runtime
from intake.storage import db
from intake.storage.models import Case, CaseKey, Entry, Staff


@dataclass(frozen=True)
class EntryView:
    seq: int
    kind: EntryKind
    author: Author
    staff_name: str | None
    on: date
    body: str


@dataclass(frozen=True)
class Holder:
    staff_id: str
    name: str
    email: str
    role: Role


@dataclass(frozen=True)
class CaseView:
    ref: str
    kind: CaseKind
    channel: Channel
    category: str
    stage: Stage
    outcome: Outcome | None
    received_on: date
    acknowledged_on: date | None
    concluded_on: date | None
    ack_due: date | None
    feedback_due: date | None
    overdue: bool
    involves_office: bool
    assignee_id: str | None
    linked_ref: str | None
    report: dict[str, object]
    messages: list[EntryView] = field(default_factory=list)
    notes: list[EntryView] = field(default_factory=list)
    outcome_reason: str | None = None
    holders: list[Holder] = field(default_factory=list)
    next_stages: tuple[Stage, ...] = ()
    attachments: list[StoredAttachment] = field(default_factory=list)
    legal_hold: bool = False
    retain_until: date | None = None  # the first day retention lets it be deleted
    deletion_notice_on: date | None = None
    # Whom the reader may assign or give the case to (None for a role that may do neither).
    choices: eligibility.Choices | None = None
    # The reporter's answers, with the questions as they were asked (questionnaires.py).
    answers: list[ShownAnswer] = field(default_factory=list)


async def _holders(session: AsyncSession, case_id: str) -> list[Holder]:
    result = await session.exec(
        select(Staff)
        .join(CaseKey, col(CaseKey.staff_id) == Staff.id)
        .where(CaseKey.case_id == case_id)
        .order_by(Staff.name)
    )
    return [
        Holder(staff_id=person.id, name=person.name, email=person.email, role=Role(person.role))
        for person in result.all()
    ]


# A case view reads every entry of the case: plain Core rows (which carry the same attribute
# names as an Entry) instead of ORM objects, several milliseconds less per view at 50 entries.
_ENTRY = Entry.__table__  # type: ignore[attr-defined]
_STAFF = Staff.__table__  # type: ignore[attr-defined]
_CASE_ENTRIES = (
    select(
        _ENTRY.c.id,
        _ENTRY.c.case_id,
        _ENTRY.c.seq,
        _ENTRY.c.position,
        _ENTRY.c.kind,
        _ENTRY.c.author,
        _ENTRY.c.on,
        _ENTRY.c.body,
        _ENTRY.c.epoch,
        _STAFF.c.name.label("staff_name"),
    )
    .select_from(_ENTRY.outerjoin(_STAFF, _STAFF.c.id == _ENTRY.c.staff_id))
    .where(_ENTRY.c.case_id == bindparam("case_id"))
)


async def view_case(
    runtime: Runtime, signed_in: SignedIn, ref: str, *, with_choices: bool = False
) -> CaseView:
    """The case, decrypted for this reader; ``with_choices`` also reads whom they may assign or
    give it to (:mod:`intake.casework.eligibility`), for the case page."""
    access.require_role(signed_in, "view")
    async with db.transaction(runtime.sessions) as session:
        case, keys = await access.open_for_staff(session, signed_in, ref)
        connection = await session.connection()
        entries = (await connection.execute(_CASE_ENTRIES, {"case_id": case.id})).all()
        holders = await _holders(session, case.id)
        attachments = await attachment_store.list_for_case(session, case.id, keys)
        answers = await questionnaires.read_answers(session, keys, case.id)
        linked_ref = (
            (await session.exec(select(Case.ref).where(Case.id == case.linked_case_id))).first()
            if case.linked_case_id
            else None
        )
        allowed = access.allowed_actions(signed_in.staff.role)
        choices = (
            await eligibility.choices(session, runtime, case, keys)
            if with_choices and allowed & {"assign", "grant"}
            else None
        )
        await audit.record(session, actor=signed_in.actor, action="case.view", case_ref=case.ref)
    report: dict[str, object] = {}
    messages: list[EntryView] = []
    notes: list[EntryView] = []
    reason = None
    # In the order written, which only the encrypted positions tell (intake/casework/records.py).
    ordered = records.placed(keys, entries)
    place = {entry.id: number for number, (_, entry) in enumerate(ordered)}
    attachments.sort(key=lambda item: place.get(item.entry_id, 0))
    for position, entry in ordered:
        body = records.decrypt_entry(keys, entry)
        kind = EntryKind(entry.kind)
        if kind == EntryKind.REPORT:
            report = json.loads(body)
            continue
        if kind == EntryKind.OUTCOME_REASON:
            reason = body
            continue
        author = Author(entry.author)
        shown = EntryView(
            seq=position,
            kind=kind,
            author=author,
            staff_name=entry.staff_name if author == Author.OFFICE else None,
            on=entry.on,
            body=body,
        )
        (notes if kind == EntryKind.NOTE else messages).append(shown)
    feedback_given = (
        case.first_reply_on is not None
        or case.concluded_on is not None
        or any(message.author == Author.OFFICE for message in messages)
    )
    return CaseView(
        ref=case.ref,
        kind=CaseKind(case.kind),
        channel=Channel(case.channel),
        category=case.category,
        stage=Stage(case.stage),
        outcome=Outcome(case.outcome) if case.outcome else None,
        received_on=case.received_on,
        acknowledged_on=case.acknowledged_on,
        concluded_on=case.concluded_on,
        ack_due=case.ack_due,
        # Gone once feedback was given: the office's first message, or the conclusion.
        feedback_due=None if feedback_given else case.feedback_due,
        overdue=workflow.is_overdue(case, runtime.today()),
        involves_office=case.involves_office,
        assignee_id=case.assignee_id,
        linked_ref=linked_ref,
        report=report,
        messages=messages,
        notes=notes,
        outcome_reason=reason,
        holders=holders,
        next_stages=workflow.next_stages(case.stage),
        attachments=attachments,
        legal_hold=case.legal_hold,
        retain_until=retention.RetentionPolicy.from_settings(runtime.settings).retain_until(case),
        deletion_notice_on=case.deletion_notice_on,
        choices=choices,
        answers=answers,
    )


NO_SUCH_FILE = N_("This case has no such file.")


async def open_attachment(
    runtime: Runtime, signed_in: SignedIn, ref: str, attachment_id: str
) -> tuple[StoredAttachment, bytes]:
    """A file of a case this person holds a key to, and the key to decrypt it; the download
    is audited (in this transaction, before any byte is sent)."""
    access.require_role(signed_in, "view")
    async with db.transaction(runtime.sessions) as session:
        case, keys = await access.open_for_staff(session, signed_in, ref)
        attachment = await attachment_store.find(session, case.id, attachment_id, keys)
        if attachment is None:
            raise CaseNotFound(NO_SUCH_FILE)
        await audit.record(
            session,
            actor=signed_in.actor,
            action="attachment.download",
            case_ref=case.ref,
            detail={"attachment": attachment.id},
        )
    return attachment, keys.of(attachment.epoch)
