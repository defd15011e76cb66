"""Moving a case along: its stage (with the outcome when it is concluded), the deadlines that
follow, the office's messages and notes, and legal hold. Every change is audited in its
transaction, by a staff member who opened the case's key in their own session.
"""

from __future__ import annotations

from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

import crypto
from intake.accounts.sessions import SignedIn
from intake.casework import access, closing, deadline_settings, epochs, records, retention
from intake.casework.vocabulary import Author, EntryKind, Outcome, Stage
from intake.errors import InvalidInput
from intake.i18n import N_
from intake.operations import audit
from intake.runtime import Runtime
from intake.storage import db
from intake.storage.models import Case

TRANSITIONS: dict[Stage, tuple[Stage, ...]] = {
    Stage.RECEIVED: (Stage.ACKNOWLEDGED,),
    Stage.ACKNOWLEDGED: (Stage.ASSESSING, Stage.CONCLUDED),
    Stage.ASSESSING: (Stage.INVESTIGATING, Stage.CONCLUDED),
    Stage.INVESTIGATING: (Stage.CONCLUDED,),
    Stage.CONCLUDED: (),
}
MAX_NOTE_CHARS = closing.MAX_REASON_CHARS


def next_stages(stage: str) -> tuple[Stage, ...]:
    return TRANSITIONS[Stage(stage)]


def is_overdue(case: Case, today: date) -> bool:
    return case.next_due is not None and case.next_due < today


def feedback_still_due(case: Case) -> date | None:
    """The feedback due date, until feedback was given: the office's first message to the
    reporter, or the conclusion, meets it (as intake/operations/stats.py counts it)."""
    if case.first_reply_on is not None or case.concluded_on is not None:
        return None
    return case.feedback_due


def _checked_stage(stage: str) -> Stage:
    try:
        return Stage(stage)
    except ValueError:
        raise InvalidInput(
            N_("The stage must be one of: %(stages)s."), field="stage", stages=", ".join(Stage)
        ) from None


def checked_outcome(outcome: str | None) -> Outcome:
    try:
        return Outcome(outcome)
    except ValueError:
        raise InvalidInput(
            N_("To conclude a case, choose an outcome: %(outcomes)s."),
            field="outcome",
            outcomes=", ".join(Outcome),
        ) from None


async def case_to_conclude(runtime: Runtime, signed_in: SignedIn, ref: str) -> Case:
    """The case this person would conclude, if they may: the case page's link to the closing
    form checks this. Nothing is decrypted or written."""
    access.require_role(signed_in, "stage")
    async with runtime.sessions() as session:
        case, _ = await access.open_for_staff(session, signed_in, ref)
    if Stage.CONCLUDED not in next_stages(case.stage):
        raise InvalidInput(
            N_("This case cannot be concluded now: it is %(now)s."), field="stage", now=case.stage
        )
    return case


async def change_stage(
    runtime: Runtime,
    signed_in: SignedIn,
    ref: str,
    *,
    stage: str,
    outcome: str | None = None,
    reason: str | None = None,
    message: str | None = None,
    no_message_reason: str | None = None,
) -> Case:
    """Move a case to its next stage. Concluding takes an outcome, the internal reason for it,
    and either a message to the reporter or the reason none can be sent
    (intake/casework/closing.py); the message is an ordinary office message."""
    access.require_role(signed_in, "stage")
    wanted = _checked_stage(stage)
    concluded_as: Outcome | None = None
    words = closing.ClosingWords()
    if wanted == Stage.CONCLUDED:
        concluded_as = checked_outcome(outcome)
        reason = records.check_text(
            reason or "", limit=MAX_NOTE_CHARS, what="reason for the outcome", field_name="reason"
        )
        words = closing.closing_words(
            message, no_message_reason, message_limit=runtime.settings.max_message_chars
        )
        if words.message is not None:
            access.require_role(signed_in, "message")
    elif outcome is not None or reason:
        raise InvalidInput(
            N_("An outcome is given only when a case is concluded."), field="outcome"
        )
    elif message or no_message_reason:
        raise InvalidInput(
            N_("A closing message is given only when a case is concluded."), field="message"
        )
    today = runtime.today()
    async with db.transaction(runtime.sessions) as session:
        case, keys = await access.open_for_staff(session, signed_in, ref, for_update=True)
        allowed = next_stages(case.stage)
        if wanted not in allowed:
            if not allowed:
                raise InvalidInput(
                    N_("This case is concluded; it cannot move to %(stage)s."),
                    field="stage",
                    stage=wanted,
                )
            raise InvalidInput(
                N_("This case is %(now)s; it cannot move to %(stage)s. Next can be: %(next)s."),
                field="stage",
                now=case.stage,
                stage=wanted,
                next=", ".join(allowed),
            )
        before = case.stage
        case.stage = wanted
        if wanted == Stage.ACKNOWLEDGED:
            case.acknowledged_on = today
            rules = await deadline_settings.current_rules(session, runtime)
            case.feedback_due = rules.feedback_due(today)
            # Feedback already given (an office message) meets the deadline, as the
            # statistics count it (intake/operations/stats.py).
            case.next_due = None if case.first_reply_on else case.feedback_due
        detail: dict[str, object] = {"from": before, "to": wanted}
        if wanted == Stage.CONCLUDED:
            case.concluded_on = today
            case.next_due = None
            case.outcome = concluded_as
            detail["outcome"] = concluded_as
            detail["reporter_told"] = words.message is not None
            keys = await epochs.keys_for_writing(session, runtime, case, keys)
            await _write_entry(
                session, runtime, signed_in, case, keys, EntryKind.OUTCOME_REASON, reason or ""
            )
            if words.message is not None:
                await _write_entry(
                    session, runtime, signed_in, case, keys, EntryKind.MESSAGE, words.message
                )
            else:
                await _write_entry(
                    session,
                    runtime,
                    signed_in,
                    case,
                    keys,
                    EntryKind.NOTE,
                    words.no_message_reason or "",
                )
        session.add(case)
        await audit.record(
            session, actor=signed_in.actor, action="case.stage", case_ref=case.ref, detail=detail
        )
    return case


async def _write_entry(
    session: AsyncSession,
    runtime: Runtime,
    signed_in: SignedIn,
    case: Case,
    keys: crypto.KeyEpochs,
    kind: EntryKind,
    body: str,
) -> int:
    """An office entry of the case (locked, opened by ``signed_in``), audited as a message or
    a note when it is one; returns its number. The first message to the reporter gives the
    feedback that the deadline asks for."""
    today = runtime.today()
    seq = await records.next_seq(session, case.id)
    if kind == EntryKind.MESSAGE and case.first_reply_on is None:
        # Plaintext, to the day: the statistics' feedback deadline (intake/operations/stats.py).
        case.first_reply_on = today
        if case.acknowledged_on is not None and case.stage != Stage.CONCLUDED:
            case.next_due = None
        session.add(case)
    session.add(
        records.encrypted_entry(
            keys,
            case_id=case.id,
            seq=seq,
            kind=kind,
            author=Author.OFFICE,
            on=today,
            body=body,
            staff_id=signed_in.staff.id,
        )
    )
    action = {EntryKind.MESSAGE: "message", EntryKind.NOTE: "note"}.get(kind)
    if action:
        # No entry number in the detail: with the event's exact time it would say how many
        # entries, the reporter's among them, came before (SECURITY.md, "Audit log").
        await audit.record(
            session, actor=signed_in.actor, action=f"case.{action}", case_ref=case.ref
        )
    return seq


async def add_entry(
    runtime: Runtime, signed_in: SignedIn, ref: str, *, kind: EntryKind, body: str
) -> int:
    """A message to the reporter (``EntryKind.MESSAGE``) or an internal note
    (``EntryKind.NOTE``); returns its number."""
    if kind not in (EntryKind.MESSAGE, EntryKind.NOTE):
        raise ValueError(f"staff add messages and notes, not {kind!r} entries")
    action = "message" if kind == EntryKind.MESSAGE else "note"
    access.require_role(signed_in, action)
    limit = runtime.settings.max_message_chars if kind == EntryKind.MESSAGE else MAX_NOTE_CHARS
    body = records.check_text(body, limit=limit, what=action, field_name="body")
    async with db.transaction(runtime.sessions) as session:
        # Locked: a new key epoch may begin here (intake/casework/epochs.py).
        case, keys = await access.open_for_staff(session, signed_in, ref, for_update=True)
        keys = await epochs.keys_for_writing(session, runtime, case, keys)
        return await _write_entry(session, runtime, signed_in, case, keys, kind, body)


async def set_legal_hold(runtime: Runtime, signed_in: SignedIn, ref: str, *, hold: bool) -> Case:
    """Put a case this person holds a key to on legal hold (it is then never deleted), or
    lift the hold. Officers and administrators only; audited."""
    access.require_role(signed_in, "stage")
    async with db.transaction(runtime.sessions) as session:
        case, _ = await access.open_for_staff(session, signed_in, ref, for_update=True)
        await retention.set_legal_hold(session, case, hold=hold, actor=signed_in.actor)
    return case
