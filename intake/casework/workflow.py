"""Moving a case along: its stage (with the outcome when it is concluded), the deadlines that
follow, the office's messages and notes, and legal hold. Every change is audited in its
transaction, by a staff member who opened the case's key in their own session.
"""

from __future__ import annotations

from datetime import date

from intake.accounts.sessions import SignedIn
from intake.casework import access, deadline_settings, epochs, records, retention
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
MAX_NOTE_CHARS = 20_000


def next_stages(stage: str) -> tuple[Stage, ...]:
    return TRANSITIONS[Stage(stage)]


def is_overdue(case: Case, today: date) -> bool:
    return case.next_due is not None and case.next_due < today


def _checked_stage(stage: str) -> Stage:
    try:
        return Stage(stage)
    except ValueError:
        raise InvalidInput(
            N_("The stage must be one of: %(stages)s."), field="stage", stages=", ".join(Stage)
        ) from None


def _checked_outcome(outcome: str | None) -> Outcome:
    try:
        return Outcome(outcome)
    except ValueError:
        raise InvalidInput(
            N_("To conclude a case, choose an outcome: %(outcomes)s."),
            field="outcome",
            outcomes=", ".join(Outcome),
        ) from None


async def change_stage(
    runtime: Runtime,
    signed_in: SignedIn,
    ref: str,
    *,
    stage: str,
    outcome: str | None = None,
    reason: str | None = None,
) -> Case:
    access.require_role(signed_in, "stage")
    wanted = _checked_stage(stage)
    concluded_as: Outcome | None = None
    if wanted == Stage.CONCLUDED:
        concluded_as = _checked_outcome(outcome)
        reason = records.check_text(
            reason or "", limit=MAX_NOTE_CHARS, what="reason for the outcome", field_name="reason"
        )
    elif outcome is not None or reason:
        raise InvalidInput(
            N_("An outcome is given only when a case is concluded."), field="outcome"
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
            case.next_due = case.feedback_due
        if wanted == Stage.CONCLUDED:
            case.concluded_on = today
            case.next_due = None
            case.outcome = concluded_as
            seq = await records.next_seq(session, case.id)
            keys = await epochs.keys_for_writing(session, runtime, case, keys)
            session.add(
                records.encrypted_entry(
                    keys,
                    case_id=case.id,
                    seq=seq,
                    kind=EntryKind.OUTCOME_REASON,
                    author=Author.OFFICE,
                    on=today,
                    body=reason or "",
                    staff_id=signed_in.staff.id,
                )
            )
        session.add(case)
        detail: dict[str, object] = {"from": before, "to": wanted}
        if concluded_as:
            detail["outcome"] = concluded_as
        await audit.record(
            session, actor=signed_in.actor, action="case.stage", case_ref=case.ref, detail=detail
        )
    return case


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
        seq = await records.next_seq(session, case.id)
        keys = await epochs.keys_for_writing(session, runtime, case, keys)
        if kind == EntryKind.MESSAGE and case.first_reply_on is None:
            # Plaintext, to the day: the statistics' feedback deadline (intake/operations/stats.py).
            case.first_reply_on = runtime.today()
            session.add(case)
        session.add(
            records.encrypted_entry(
                keys,
                case_id=case.id,
                seq=seq,
                kind=kind,
                author=Author.OFFICE,
                on=runtime.today(),
                body=body,
                staff_id=signed_in.staff.id,
            )
        )
        # No entry number in the detail: with the event's exact time it would say how many
        # entries, the reporter's among them, came before (SECURITY.md, "Audit log").
        await audit.record(
            session, actor=signed_in.actor, action=f"case.{action}", case_ref=case.ref
        )
    return seq


async def set_legal_hold(runtime: Runtime, signed_in: SignedIn, ref: str, *, hold: bool) -> Case:
    """Put a case this person holds a key to on legal hold (it is then never deleted), or
    lift the hold. Officers and administrators only; audited."""
    access.require_role(signed_in, "stage")
    async with db.transaction(runtime.sessions) as session:
        case, _ = await access.open_for_staff(session, signed_in, ref, for_update=True)
        await retention.set_legal_hold(session, case, hold=hold, actor=signed_in.actor)
    return case
