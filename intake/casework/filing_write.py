"""The filing transaction: reports checked inside it and written together.

Reports without files are gathered by a batcher (intake/storage/batching.py) and written in one
transaction: one combined read (intake/casework/filing_read.py), each report checked against it
(its category, exclusions, earlier case and recipients; one that fails gets its own error and
the others are written), one Core insert per table for all of them, one commit. A reporter is
shown their token only once it is durably committed. intake/casework/filing.py prepares each
report (everything that needs no database) before it comes here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

import crypto
from intake import mail
from intake.accounts import keyring
from intake.attachments.prepare import PreparedAttachment
from intake.casework import identity as confidential
from intake.casework import once, questionnaires, records, routing
from intake.casework.case_files import AttachmentOutcome, charge_budget, save_attachments
from intake.casework.filing_read import FilingRead, read_for_filing
from intake.casework.vocabulary import CaseKind, Channel
from intake.errors import InvalidInput, QuietlineError
from intake.i18n import N_, Phrase
from intake.operations import audit
from intake.runtime import Runtime
from intake.storage import db
from intake.storage.batching import Batcher
from intake.storage.models import Case, Entry
from intake.storage.models import CaseKey as CaseKeyRow

if TYPE_CHECKING:
    from intake.casework.filing import NewReport, RecordedBy


def _checked_exclusions(read: FilingRead, wanted: tuple[str, ...]) -> tuple[str, ...]:
    if not wanted:
        return ()
    if not set(wanted) <= read.excludable():
        raise InvalidInput(
            N_("Please choose people to exclude from the list only."), field="exclude"
        )
    return tuple(sorted(set(wanted)))


async def original_case_id(session: AsyncSession, runtime: Runtime, token: str) -> str:
    try:
        canonical = crypto.normalise_token(token)
    except crypto.TokenTypo as exc:
        raise InvalidInput(
            N_("The earlier case's token: %(problem)s"),
            field="original_token",
            problem=Phrase(exc.template, exc.params),
        ) from exc
    lookup = crypto.token_lookup_key(runtime.secrets.token_pepper, canonical)
    found = (await session.exec(select(Case.id).where(Case.lookup == lookup))).first()
    if found is None:
        raise InvalidInput(
            N_("No case matches the earlier case's token. Please check it, or leave it out."),
            field="original_token",
        )
    return found


@dataclass(frozen=True)
class PendingReport:
    """A report ready to be written: checked, encrypted, its token's traces computed."""

    report: NewReport
    kind: CaseKind
    channel: Channel
    recorded_by: RecordedBy | None
    today: date
    case_id: str
    data_key: bytes = field(repr=False)
    ref: str
    lookup: bytes
    salt: bytes
    reporter_wrap: bytes
    reporter_public: bytes
    entry: dict[str, Any]
    prepared: list[PreparedAttachment]
    once: bytes | None = None
    answers: questionnaires.PreparedAnswers | None = None
    identity: confidential.PreparedIdentity | None = None


Outcome = list[AttachmentOutcome]


# How long the report writer waits for reporters it has just answered to come back (see
# intake/storage/batching.py): measured on two cores, half a millisecond gathered most of them; a
# lone reporter never waits.
REPORT_GATHER_WINDOW = 0.0005  # seconds


def report_batcher(runtime: Runtime) -> Batcher[PendingReport, Outcome]:
    batcher = runtime.batchers.get("reports")
    if batcher is None:
        batcher = runtime.batchers["reports"] = Batcher(
            partial(write_reports, runtime), gather_window=REPORT_GATHER_WINDOW
        )
    return batcher


_CASE_TABLE = Case.__table__  # type: ignore[attr-defined]
_ENTRY_TABLE = Entry.__table__  # type: ignore[attr-defined]
_CASEKEY_TABLE = CaseKeyRow.__table__  # type: ignore[attr-defined]


@dataclass
class _ReportRows:
    pending: PendingReport
    case: dict[str, Any]
    keys: list[dict[str, Any]]
    notify: list[routing.KeyHolder]
    identity: confidential.IdentityRows | None = None


async def write_reports(
    runtime: Runtime, batch: Sequence[PendingReport]
) -> list[Outcome | Exception]:
    """Write reports in one transaction (see intake/storage/batching.py).

    Each report is checked first (its category, exclusions, earlier case and
    recipients); one that fails gets its own error and the others are
    written: one insert per table for all of them, one commit.
    """
    settings = runtime.settings
    outcomes: list[Outcome | Exception] = []
    async with db.transaction(runtime.sessions) as session:
        connection = await session.connection()
        read = await read_for_filing(session, runtime)
        accepted: list[_ReportRows] = []
        for pending in batch:
            try:
                accepted.append(await _report_rows(session, runtime, pending, read))
            except QuietlineError as error:
                outcomes.append(error)
            else:
                outcomes.append([])
        # A form sent twice files once (intake/casework/once.py).
        allowed = await once.spend_each(
            connection, [rows.pending.once for rows in accepted], today=runtime.today()
        )
        for rows, fresh in zip(accepted, allowed, strict=True):
            if not fresh:
                outcomes[_position(batch, rows.pending)] = once.AlreadySent()
        accepted = [rows for rows, fresh in zip(accepted, allowed, strict=True) if fresh]
        if not accepted:
            return outcomes
        # Core inserts of the columns set here (the table's defaults fill the rest): the ORM's
        # unit of work cost more CPU than everything else a report does.
        await connection.execute(insert(_CASE_TABLE), [rows.case for rows in accepted])
        await connection.execute(insert(_ENTRY_TABLE), [rows.pending.entry for rows in accepted])
        await connection.execute(
            insert(_CASEKEY_TABLE), [key for rows in accepted for key in rows.keys]
        )
        await questionnaires.write(
            connection, [rows.pending.answers for rows in accepted if rows.pending.answers]
        )
        await confidential.insert_rows(connection, [rows.identity for rows in accepted])
        saved: dict[str, Outcome] = {}
        for rows in accepted:
            pending = rows.pending
            saved[pending.case_id] = await save_attachments(
                session,
                pending.data_key,
                pending.prepared,
                case_id=pending.case_id,
                entry_id=pending.entry["id"],
            )
            if pending.recorded_by is not None:
                await audit.record(
                    session,
                    actor=pending.recorded_by.email,
                    action="case.recorded",
                    case_ref=pending.ref,
                    detail={"channel": pending.channel, "kind": pending.kind},
                )
        # Told of a new report: every receiving officer of every group, just read, whatever the
        # report's routing, so the outbox cannot tell an excluding report or one about the office
        # from a plain one (intake/mail/outbox.py). Only the officer who entered it is left out.
        people = {person.id: person for rows in accepted for person in rows.notify}
        await mail.queue_notices(session, settings, list(people.values()))
        # A reporter's files count against the storage budget; staff entering a report are
        # never refused by it. Last, so its lock is held only until the commit.
        await charge_budget(
            session,
            runtime,
            [
                item
                for rows in accepted
                if rows.pending.recorded_by is None
                for item in rows.pending.prepared
            ],
        )
    return [
        outcome if isinstance(outcome, Exception) else saved[pending.case_id]
        for pending, outcome in zip(batch, outcomes, strict=True)
    ]


def _position(batch: Sequence[PendingReport], pending: PendingReport) -> int:
    return next(i for i, item in enumerate(batch) if item is pending)


async def _report_rows(
    session: AsyncSession,
    runtime: Runtime,
    pending: PendingReport,
    read: FilingRead,
) -> _ReportRows:
    """Check one report inside the filing transaction; its rows, or its own error."""
    report = pending.report
    if report.category not in read.open_categories:
        raise InvalidInput(N_("Please choose one of the listed categories."), field="category")
    excluded = _checked_exclusions(read, report.excluded_staff_ids)
    linked = (
        await original_case_id(session, runtime, report.original_token)
        if report.original_token and report.original_token.strip()
        else None
    )
    recipients = read.recipients(
        runtime.settings, involves_office=report.involves_office, excluded=excluded
    )
    case_id, data_key, today = pending.case_id, pending.data_key, pending.today
    ack_due = read.rules.ack_due(today, kind=pending.kind)
    case = {
        "id": case_id,
        "ref": pending.ref,
        "kind": pending.kind,
        "category": report.category,
        "channel": pending.channel,
        "group_name": recipients.group,
        "involves_office": report.involves_office,
        "received_on": today,
        "ack_due": ack_due,
        "next_due": ack_due,
        "linked_case_id": linked,
        "lookup": pending.lookup,
        "salt": pending.salt,
        "reporter_wrap": pending.reporter_wrap,
        # The reporter as a recipient of later key epochs (intake/casework/epochs.py).
        "reporter_public": pending.reporter_public,
        # Always written, at a fixed length: it does not tell whether or how many were excluded.
        "exclusions": records.encrypt_exclusions(data_key, case_id, excluded),
        "next_seq": 2,
    }
    recorder = pending.recorded_by.staff_id if pending.recorded_by else None
    sealed_identity = None
    if pending.identity is not None:
        sealed_identity = confidential.rows_for(
            pending.identity,
            case_id,
            read.directory,
            runtime.settings,
            holders={holder.id for holder in recipients.staff},
            excluded=excluded,
            involves_office=report.involves_office,
        )
    return _ReportRows(
        pending=pending,
        case=case,
        keys=keyring.seal_case_key(case_id, data_key, recipients, received_on=today),
        notify=[holder for holder in read.notified(runtime.settings) if holder.id != recorder],
        identity=sealed_identity,
    )
