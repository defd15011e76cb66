"""The case workflow, staff side: queue, case view, stages, messages, notes, assignment, grants.

A staff member reaches a case only through their own sealed copy of its data
key (a ``CaseKey`` row), opened with the private key of their session. A case
they hold no key to is answered exactly like a case that does not exist, so a
refusal reveals nothing. Every read and change is audited in its transaction.
Nothing decrypted is cached or written anywhere.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import bindparam, delete, func, tuple_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

import crypto
from intake import mail
from intake.accounts import keyring
from intake.accounts.sessions import SignedIn
from intake.attachments import store as attachment_store
from intake.attachments.store import StoredAttachment
from intake.casework import cases, deadline_settings, retention
from intake.casework.cases import STAGES
from intake.errors import CaseNotFound, Forbidden, InvalidInput
from intake.i18n import N_
from intake.operations import audit
from intake.runtime import Runtime
from intake.storage import db
from intake.storage.models import Case, CaseKey, Entry, Staff, is_id

OUTCOMES = ("substantiated", "not_substantiated", "referred", "no_action")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "received": ("acknowledged",),
    "acknowledged": ("assessing", "concluded"),
    "assessing": ("investigating", "concluded"),
    "investigating": ("concluded",),
    "concluded": (),
}
# What each role may do on a case it holds a key to. Investigators work the cases granted to
# them: they read and keep notes; intake officers (and administrators granted a case) do the rest.
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "officer": frozenset({"view", "note", "message", "stage", "assign", "grant", "intake"}),
    "admin": frozenset({"view", "note", "message", "stage", "assign", "grant"}),
    "investigator": frozenset({"view", "note"}),
}
NO_SUCH_CASE = N_("No case with this reference is open to you.")
REF_PATTERN = re.compile(r"QL-[0-9A-Z]{5}-[0-9A-Z]{5}")
MAX_NOTE_CHARS = 20_000
REASON_KIND = "outcome"


def require_role(signed_in: SignedIn, action: str) -> None:
    if action not in ROLE_ACTIONS.get(signed_in.staff.role, frozenset()):
        refusal = {
            "message": N_("Your role cannot message reporters."),
            "stage": N_("Your role cannot change a case's stage."),
            "assign": N_("Your role cannot assign cases."),
            "grant": N_("Your role cannot give or remove access to cases."),
            "intake": N_("Your role cannot record reports received by phone, mail or in person."),
        }.get(action, N_("Your role cannot do this."))
        raise Forbidden(refusal)


def is_overdue(case: Case, today: date) -> bool:
    return case.next_due is not None and case.next_due < today


# --- queue -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilters:
    stage: str | None = None
    category: str | None = None
    overdue: bool = False
    mine: bool = False
    after: str | None = None  # an opaque cursor from the previous page
    limit: int = 50


@dataclass(frozen=True)
class QueueRow:
    ref: str
    kind: str
    channel: str
    category: str
    stage: str
    received_on: date
    ack_due: date | None
    feedback_due: date | None
    assignee_id: str | None
    assignee_name: str | None
    overdue: bool


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    next_cursor: str | None


def _encode_cursor(received_on: date, case_id: str) -> str:
    raw = f"{received_on.isoformat()}|{case_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[date, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        day, case_id = raw.split("|", 1)
        if not is_id(case_id):
            raise ValueError(case_id)
        return date.fromisoformat(day), case_id
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput("The page cursor is not valid: start from the first page.") from None


def validate_filters(filters: QueueFilters) -> None:
    if filters.stage is not None and filters.stage not in STAGES:
        raise InvalidInput(
            N_("The stage must be one of: %(stages)s."), field="stage", stages=", ".join(STAGES)
        )
    if filters.category is not None and (
        len(filters.category) > 50 or not filters.category.isprintable()
    ):
        raise InvalidInput("There is no such category.", field="category")
    if not 1 <= filters.limit <= 200:
        raise InvalidInput("The page size must be between 1 and 200.", field="limit")


# Only what the queue shows: no ciphertext or key material is read for it.
QUEUE_COLUMNS = (
    Case.id,
    Case.ref,
    Case.kind,
    Case.channel,
    Case.category,
    Case.stage,
    Case.received_on,
    Case.acknowledged_on,
    Case.ack_due,
    Case.feedback_due,
    Case.next_due,
    Case.assignee_id,
)


async def queue(runtime: Runtime, signed_in: SignedIn, filters: QueueFilters) -> QueuePage:
    """The cases this person holds a key to; filtered, ordered and paged in SQL, decrypting nothing.

    Each query walks one index in the page's order and stops after a page, so its cost does not
    grow with the number of cases: the default queue walks this person's keys newest first
    (``ix_casekey_staff_received``); "assigned to me" walks the case table by assignee; the
    overdue queue walks cases by due date, most overdue first.
    """
    validate_filters(filters)
    today = runtime.today()
    me = signed_in.staff.id
    assignee = select(Staff.name).where(Staff.id == Case.assignee_id).scalar_subquery()
    statement = select(*QUEUE_COLUMNS, assignee.label("assignee_name"))
    cursor = _decode_cursor(filters.after) if filters.after else None
    if filters.overdue or filters.mine:
        holds_key = (
            select(CaseKey.id)
            .where(CaseKey.case_id == Case.id)
            .where(CaseKey.staff_id == me)
            .exists()
        )
        statement = statement.where(holds_key)
        if filters.mine:
            statement = statement.where(Case.assignee_id == me)
        if filters.overdue:
            statement = statement.where(col(Case.next_due) < today)
            order = (col(Case.next_due), col(Case.id))
            if cursor:
                statement = statement.where(tuple_(*order) > tuple_(*cursor))
            statement = statement.order_by(*order)
        else:
            order = (col(Case.received_on), col(Case.id))
            if cursor:
                statement = statement.where(tuple_(*order) < tuple_(*cursor))
            statement = statement.order_by(*(column.desc() for column in order))
    else:
        statement = statement.join(CaseKey, col(CaseKey.case_id) == Case.id).where(
            CaseKey.staff_id == me
        )
        order = (col(CaseKey.received_on), col(CaseKey.case_id))
        if cursor:
            statement = statement.where(tuple_(*order) < tuple_(*cursor))
        statement = statement.order_by(*(column.desc() for column in order))
    if filters.stage:
        statement = statement.where(Case.stage == filters.stage)
    if filters.category:
        statement = statement.where(Case.category == filters.category)
    async with runtime.sessions() as session:
        rows = (await session.exec(statement.limit(filters.limit + 1))).all()
    page = [
        QueueRow(
            ref=row.ref,
            kind=row.kind,
            channel=row.channel,
            category=row.category,
            stage=row.stage,
            received_on=row.received_on,
            ack_due=row.ack_due if row.acknowledged_on is None else None,
            feedback_due=row.feedback_due,
            assignee_id=row.assignee_id,
            assignee_name=row.assignee_name,
            overdue=row.next_due is not None and row.next_due < today,
        )
        for row in rows[: filters.limit]
    ]
    next_cursor = None
    if len(rows) > filters.limit:
        last = rows[filters.limit - 1]
        key_day = last.next_due if filters.overdue else last.received_on
        assert key_day is not None
        next_cursor = _encode_cursor(key_day, last.id)
    return QueuePage(rows=page, next_cursor=next_cursor)


# --- opening a case --------------------------------------------------------------------------


async def _open_case(
    session: AsyncSession, signed_in: SignedIn, ref: str, *, for_update: bool = False
) -> tuple[Case, bytes]:
    """The case and its data key, through this person's own sealed copy; else CaseNotFound."""
    ref = ref.strip().upper()
    if not REF_PATTERN.fullmatch(ref):
        raise CaseNotFound(NO_SUCH_CASE)
    statement = select(Case).where(Case.ref == ref)
    if for_update:
        statement = statement.with_for_update()
    case = (await session.exec(statement)).first()
    if case is None:
        raise CaseNotFound(NO_SUCH_CASE)
    sealed = (
        await session.exec(
            select(CaseKey.sealed)
            .where(CaseKey.case_id == case.id)
            .where(CaseKey.staff_id == signed_in.staff.id)
        )
    ).first()
    if sealed is None:
        raise CaseNotFound(NO_SUCH_CASE)
    try:
        data_key = crypto.unseal(
            sealed, signed_in.private_key, case_id=case.id, purpose=keyring.CASE_KEY_PURPOSE
        )
    except crypto.DecryptionError:
        # A copy sealed to a key this person no longer has (their account was reset).
        raise CaseNotFound(NO_SUCH_CASE) from None
    return case, data_key


@dataclass(frozen=True)
class EntryView:
    seq: int
    kind: str
    author: str
    staff_name: str | None
    on: date
    body: str


@dataclass(frozen=True)
class Holder:
    staff_id: str
    name: str
    email: str
    role: str


@dataclass(frozen=True)
class CaseView:
    ref: str
    kind: str
    channel: str
    category: str
    stage: str
    outcome: str | None
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
    next_stages: tuple[str, ...] = ()
    attachments: list[StoredAttachment] = field(default_factory=list)
    legal_hold: bool = False
    retain_until: date | None = None  # the first day retention lets it be deleted
    deletion_notice_on: date | None = None


async def _holders(session: AsyncSession, case_id: str) -> list[Holder]:
    result = await session.exec(
        select(Staff)
        .join(CaseKey, col(CaseKey.staff_id) == Staff.id)
        .where(CaseKey.case_id == case_id)
        .order_by(Staff.name)
    )
    return [
        Holder(staff_id=person.id, name=person.name, email=person.email, role=person.role)
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
        _ENTRY.c.kind,
        _ENTRY.c.author,
        _ENTRY.c.on,
        _ENTRY.c.body,
        _STAFF.c.name.label("staff_name"),
    )
    .select_from(_ENTRY.outerjoin(_STAFF, _STAFF.c.id == _ENTRY.c.staff_id))
    .where(_ENTRY.c.case_id == bindparam("case_id"))
    .order_by(_ENTRY.c.seq)
)


async def view_case(runtime: Runtime, signed_in: SignedIn, ref: str) -> CaseView:
    require_role(signed_in, "view")
    async with db.transaction(runtime.sessions) as session:
        case, data_key = await _open_case(session, signed_in, ref)
        connection = await session.connection()
        entries = (await connection.execute(_CASE_ENTRIES, {"case_id": case.id})).all()
        holders = await _holders(session, case.id)
        attachments = await attachment_store.list_for_case(session, case.id, data_key)
        linked_ref = (
            (await session.exec(select(Case.ref).where(Case.id == case.linked_case_id))).first()
            if case.linked_case_id
            else None
        )
        await audit.record(session, actor=signed_in.actor, action="case.view", case_ref=case.ref)
    report: dict[str, object] = {}
    messages: list[EntryView] = []
    notes: list[EntryView] = []
    reason = None
    for entry in entries:
        staff_name = entry.staff_name
        body = cases.decrypt_entry(data_key, entry)
        if entry.kind == "report":
            report = json.loads(body)
            continue
        if entry.kind == REASON_KIND:
            reason = body
            continue
        shown = EntryView(
            seq=entry.seq,
            kind=entry.kind,
            author=entry.author,
            staff_name=staff_name if entry.author == "office" else None,
            on=entry.on,
            body=body,
        )
        (notes if entry.kind == "note" else messages).append(shown)
    return CaseView(
        ref=case.ref,
        kind=case.kind,
        channel=case.channel,
        category=case.category,
        stage=case.stage,
        outcome=case.outcome,
        received_on=case.received_on,
        acknowledged_on=case.acknowledged_on,
        concluded_on=case.concluded_on,
        ack_due=case.ack_due,
        feedback_due=case.feedback_due,
        overdue=is_overdue(case, runtime.today()),
        involves_office=case.involves_office,
        assignee_id=case.assignee_id,
        linked_ref=linked_ref,
        report=report,
        messages=messages,
        notes=notes,
        outcome_reason=reason,
        holders=holders,
        next_stages=TRANSITIONS[case.stage],
        attachments=attachments,
        legal_hold=case.legal_hold,
        retain_until=retention.RetentionPolicy.from_settings(runtime.settings).retain_until(case),
        deletion_notice_on=case.deletion_notice_on,
    )


NO_SUCH_FILE = "This case has no such file."


async def open_attachment(
    runtime: Runtime, signed_in: SignedIn, ref: str, attachment_id: str
) -> tuple[StoredAttachment, bytes]:
    """A file of a case this person holds a key to, and the key to decrypt it; the download
    is audited (in this transaction, before any byte is sent)."""
    require_role(signed_in, "view")
    async with db.transaction(runtime.sessions) as session:
        case, data_key = await _open_case(session, signed_in, ref)
        attachment = await attachment_store.find(session, case.id, attachment_id, data_key)
        if attachment is None:
            raise CaseNotFound(NO_SUCH_FILE)
        await audit.record(
            session,
            actor=signed_in.actor,
            action="attachment.download",
            case_ref=case.ref,
            detail={"attachment": attachment.id},
        )
    return attachment, data_key


# --- changes ---------------------------------------------------------------------------------


async def change_stage(
    runtime: Runtime,
    signed_in: SignedIn,
    ref: str,
    *,
    stage: str,
    outcome: str | None = None,
    reason: str | None = None,
) -> Case:
    require_role(signed_in, "stage")
    if stage not in STAGES:
        raise InvalidInput(
            N_("The stage must be one of: %(stages)s."), field="stage", stages=", ".join(STAGES)
        )
    if stage == "concluded":
        if outcome not in OUTCOMES:
            raise InvalidInput(
                N_("To conclude a case, choose an outcome: %(outcomes)s."),
                field="outcome",
                outcomes=", ".join(OUTCOMES),
            )
        reason = cases._check_text(
            reason or "", limit=MAX_NOTE_CHARS, what="reason for the outcome", field_name="reason"
        )
    elif outcome is not None or reason:
        raise InvalidInput("An outcome is given only when a case is concluded.", field="outcome")
    today = runtime.today()
    async with db.transaction(runtime.sessions) as session:
        case, data_key = await _open_case(session, signed_in, ref, for_update=True)
        allowed = TRANSITIONS[case.stage]
        if stage not in allowed:
            if not allowed:
                raise InvalidInput(
                    N_("This case is concluded; it cannot move to %(stage)s."),
                    field="stage",
                    stage=stage,
                )
            raise InvalidInput(
                N_("This case is %(now)s; it cannot move to %(stage)s. Next can be: %(next)s."),
                field="stage",
                now=case.stage,
                stage=stage,
                next=", ".join(allowed),
            )
        before = case.stage
        case.stage = stage
        if stage == "acknowledged":
            case.acknowledged_on = today
            rules = await deadline_settings.current_rules(session, runtime)
            case.feedback_due = rules.feedback_due(today)
            case.next_due = case.feedback_due
        if stage == "concluded":
            case.concluded_on = today
            case.next_due = None
            case.outcome = outcome
            seq = await cases._next_seq(session, case.id)
            session.add(
                cases._encrypted_entry(
                    data_key,
                    case_id=case.id,
                    seq=seq,
                    kind=REASON_KIND,
                    author="office",
                    on=today,
                    body=reason or "",
                    staff_id=signed_in.staff.id,
                )
            )
        session.add(case)
        detail: dict[str, object] = {"from": before, "to": stage}
        if outcome:
            detail["outcome"] = outcome
        await audit.record(
            session, actor=signed_in.actor, action="case.stage", case_ref=case.ref, detail=detail
        )
    return case


async def add_entry(
    runtime: Runtime, signed_in: SignedIn, ref: str, *, kind: str, body: str
) -> int:
    """A message to the reporter (``kind="message"``) or an internal note; returns its number."""
    action = "message" if kind == "message" else "note"
    require_role(signed_in, action)
    limit = runtime.settings.max_message_chars if kind == "message" else MAX_NOTE_CHARS
    body = cases._check_text(body, limit=limit, what=action, field_name="body")
    async with db.transaction(runtime.sessions) as session:
        case, data_key = await _open_case(session, signed_in, ref)
        seq = await cases._next_seq(session, case.id)
        if kind == "message" and case.first_reply_on is None:
            # Plaintext, to the day: the statistics' feedback deadline (intake/operations/stats.py).
            case.first_reply_on = runtime.today()
            session.add(case)
        session.add(
            cases._encrypted_entry(
                data_key,
                case_id=case.id,
                seq=seq,
                kind=kind,
                author="office",
                on=runtime.today(),
                body=body,
                staff_id=signed_in.staff.id,
            )
        )
        await audit.record(
            session,
            actor=signed_in.actor,
            action=f"case.{action}",
            case_ref=case.ref,
            detail={"seq": seq},
        )
    return seq


async def _grantee(session: AsyncSession, staff_id: str) -> Staff:
    person = await session.get(Staff, staff_id) if is_id(staff_id) else None
    if person is None or not person.active:
        raise InvalidInput("There is no active staff member with this id.", field="staff_id")
    return person


async def _holds(session: AsyncSession, case_id: str, staff_id: str) -> bool:
    found = await session.exec(
        select(CaseKey.id).where(CaseKey.case_id == case_id).where(CaseKey.staff_id == staff_id)
    )
    return found.first() is not None


async def _seal_to(
    session: AsyncSession, runtime: Runtime, case: Case, data_key: bytes, person: Staff
) -> None:
    if person.id in cases.decrypt_exclusions(data_key, case):
        raise Forbidden(
            "This person was excluded by the reporter and can never be given this case."
        )
    if case.involves_office and person.group_name == runtime.settings.default_group:
        raise Forbidden(
            "The reporter said this case involves the "
            f"{runtime.settings.default_group} group: it cannot be given to its members."
        )
    session.add(
        CaseKey(
            case_id=case.id,
            staff_id=person.id,
            received_on=case.received_on,
            sealed=crypto.seal(
                data_key, person.public_key, case_id=case.id, purpose=keyring.CASE_KEY_PURPOSE
            ),
        )
    )


async def grant(runtime: Runtime, signed_in: SignedIn, ref: str, staff_id: str) -> Staff:
    """Seal the case key to another staff member (unwrapped here, in this session)."""
    require_role(signed_in, "grant")
    async with db.transaction(runtime.sessions) as session:
        case, data_key = await _open_case(session, signed_in, ref)
        person = await _grantee(session, staff_id)
        if await _holds(session, case.id, person.id):
            raise InvalidInput(
                N_("%(name)s has access to this case already."), field="staff_id", name=person.name
            )
        await _seal_to(session, runtime, case, data_key, person)
        await audit.record(
            session,
            actor=signed_in.actor,
            action="case.grant",
            case_ref=case.ref,
            detail={"to": person.email},
        )
        await mail.queue_notices(session, runtime.settings, [person])
    return person


async def revoke(runtime: Runtime, signed_in: SignedIn, ref: str, staff_id: str) -> None:
    """Remove a staff member's copy of the case key; the last staff holder always remains."""
    require_role(signed_in, "grant")
    async with db.transaction(runtime.sessions) as session:
        case, _ = await _open_case(session, signed_in, ref, for_update=True)
        person = await session.get(Staff, staff_id) if is_id(staff_id) else None
        if person is None or not await _holds(session, case.id, staff_id):
            raise InvalidInput("This person has no access to this case.", field="staff_id")
        holders = (
            await session.exec(
                select(func.count())
                .select_from(CaseKey)
                .where(CaseKey.case_id == case.id)
                .where(col(CaseKey.staff_id).is_not(None))
            )
        ).one()
        if holders <= 1:
            raise InvalidInput(
                "This is the last person with access to this case: give someone else access first.",
                field="staff_id",
            )
        await session.exec(
            delete(CaseKey)  # type: ignore[call-overload]
            .where(col(CaseKey.case_id) == case.id)
            .where(col(CaseKey.staff_id) == staff_id)
        )
        if case.assignee_id == staff_id:
            case.assignee_id = None
            session.add(case)
        await audit.record(
            session,
            actor=signed_in.actor,
            action="case.revoke",
            case_ref=case.ref,
            detail={"from": person.email},
        )


async def assign(
    runtime: Runtime, signed_in: SignedIn, ref: str, staff_id: str | None
) -> Staff | None:
    """Assign the case (granting access first when needed), or clear the assignment."""
    require_role(signed_in, "assign")
    async with db.transaction(runtime.sessions) as session:
        case, data_key = await _open_case(session, signed_in, ref, for_update=True)
        person = await _grantee(session, staff_id) if staff_id else None
        detail: dict[str, object] = {"to": person.email if person else None}
        if person is not None and not await _holds(session, case.id, person.id):
            await _seal_to(session, runtime, case, data_key, person)
            detail["granted"] = True
        case.assignee_id = person.id if person else None
        session.add(case)
        await audit.record(
            session, actor=signed_in.actor, action="case.assign", case_ref=case.ref, detail=detail
        )
        if person is not None and person.id != signed_in.staff.id:
            await mail.queue_notices(session, runtime.settings, [person])
    return person


async def record_report(
    runtime: Runtime, signed_in: SignedIn, report: cases.NewReport, *, channel: str
) -> cases.Filed:
    """A report received by phone, mail or in person, entered by an officer."""
    require_role(signed_in, "intake")
    if channel == "web":
        raise InvalidInput("Say how the report came in: phone, mail or in person.", field="channel")
    return await cases.file_report(
        runtime,
        report,
        channel=channel,
        recorded_by=cases.RecordedBy(email=signed_in.actor, staff_id=signed_in.staff.id),
    )


async def grantable_staff(runtime: Runtime) -> list[Staff]:
    async with runtime.sessions() as session:
        result = await session.exec(
            select(Staff).where(col(Staff.active)).order_by(Staff.group_name, Staff.name)
        )
        return list(result.all())


# --- retention -------------------------------------------------------------------------------


async def set_legal_hold(runtime: Runtime, signed_in: SignedIn, ref: str, *, hold: bool) -> Case:
    """Put a case this person holds a key to on legal hold (it is then never deleted), or
    lift the hold. Officers and administrators only; audited."""
    require_role(signed_in, "stage")
    async with db.transaction(runtime.sessions) as session:
        case, _ = await _open_case(session, signed_in, ref, for_update=True)
        await retention.set_legal_hold(session, case, hold=hold, actor=signed_in.actor)
    return case
