"""Filing a report: by a reporter through the web form or the API, or entered by staff for a
report received by phone, mail or in person.

Everything the reporter wrote is encrypted with the case's new data key before it reaches the
database; the token is used only to derive the lookup hash and the reporter's key, and is never
stored. Reports without files are written in batches (intake/storage/batching.py): one combined
read (intake/casework/filing_read.py), one Core insert per table and one commit for all the
reports gathered, so a reporter is shown their token only once it is durably committed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any

from sqlalchemy import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

import crypto
from intake import mail
from intake.accounts import keyring, trusted
from intake.accounts.sessions import SignedIn
from intake.attachments.prepare import PreparedAttachment
from intake.attachments.staging import CaseKey, StagedFile
from intake.casework import access, once, questionnaires, records, routing
from intake.casework import identity as confidential
from intake.casework.case_files import (
    AttachmentOutcome,
    charge_budget,
    prepare_attachments,
    save_attachments,
)
from intake.casework.filing_read import FilingRead, read_for_filing
from intake.casework.vocabulary import Author, CaseKind, Channel, EntryKind
from intake.errors import InvalidInput, QuietlineError
from intake.i18n import N_, Phrase
from intake.operations import audit
from intake.runtime import Runtime
from intake.storage import db
from intake.storage.batching import Batcher
from intake.storage.models import Case, Category, Entry, new_id
from intake.storage.models import CaseKey as CaseKeyRow

REPRISAL_CATEGORY = "reprisal"


@dataclass(frozen=True)
class NewReport:
    category: str
    body: str
    involves_office: bool = False
    excluded_staff_ids: tuple[str, ...] = ()
    kind: CaseKind = CaseKind.REPORT
    # The token of the case a reprisal complaint follows from, when the reporter has it.
    original_token: str | None = None
    # The form's one-time value (or an API client's idempotency key): a second report with the
    # same value files nothing (intake/casework/once.py).
    once: str | None = field(default=None, repr=False)
    # Answers to the category's questions, by question id (intake/casework/questions.py), and
    # the questionnaire versions the form showed (none: the current ones).
    answers: dict[str, Any] = field(default_factory=dict, repr=False)
    questionnaire: tuple[str, ...] = ()
    # A confidential reporter's name and contact, sealed for two people (casework/identity.py).
    identity: confidential.GivenIdentity | None = None


@dataclass(frozen=True)
class Filed:
    token: str = field(repr=False)
    ref: str
    case_id: str
    attachments: list[AttachmentOutcome] = field(default_factory=list)


@dataclass(frozen=True)
class RecordedBy:
    """The staff member who entered a report received by phone, mail or in person."""

    email: str
    staff_id: str


async def active_categories(session: AsyncSession) -> list[Category]:
    result = await session.exec(
        select(Category).where(col(Category.active)).order_by(col(Category.position))
    )
    return list(result.all())


@dataclass(frozen=True)
class Excludable:
    """A person a reporter may ask never to receive their report, by the label they see."""

    id: str
    label: str


async def exclusion_choices(session: AsyncSession, runtime: Runtime) -> list[Excludable]:
    """The labels the verified directory gives its active members, sorted; none while there is
    no verified directory (reports are refused then anyway)."""
    state = await trusted.directory_state(session, runtime)
    if state is None:
        return []
    return sorted(
        (
            Excludable(id=m.staff_id, label=m.label)
            for m in state.members.values()
            if m.active and m.label
        ),
        key=lambda person: person.label,
    )


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


async def _check_category(runtime: Runtime, category: str) -> None:
    async with runtime.sessions() as session:
        categories = {item.id for item in await active_categories(session)}
    if category not in categories:
        raise InvalidInput(N_("Please choose one of the listed categories."), field="category")


def new_case_key() -> CaseKey:
    """A data key and id for a case not yet filed, so its files can be encrypted for it as they
    arrive (pass it to the upload reader and then to :func:`file_report`)."""
    return CaseKey(data_key=crypto.new_data_key(), case_id=new_id())


async def record_report(
    runtime: Runtime, signed_in: SignedIn, report: NewReport, *, channel: Channel
) -> Filed:
    """A report received by phone, mail or in person, entered by an officer."""
    access.require_role(signed_in, "intake")
    if channel == Channel.WEB:
        raise InvalidInput(
            N_("Say how the report came in: phone, mail or in person."), field="channel"
        )
    return await file_report(
        runtime,
        report,
        channel=channel,
        recorded_by=RecordedBy(email=signed_in.actor, staff_id=signed_in.staff.id),
    )


async def file_report(
    runtime: Runtime,
    report: NewReport,
    *,
    channel: Channel = Channel.WEB,
    recorded_by: RecordedBy | None = None,
    files: Sequence[StagedFile] = (),
    case_key: CaseKey | None = None,
) -> Filed:
    """File a report (by a reporter, or entered by staff) with its attachments, all in one
    transaction: return only once the report and every file are durably committed; store
    nothing otherwise."""
    with ExitStack() as stack:
        return await _file_report(
            runtime,
            report,
            stack,
            channel=channel,
            recorded_by=recorded_by,
            files=files,
            case_key=case_key or new_case_key(),
        )


def _case_kind(report: NewReport) -> CaseKind:
    try:
        kind = CaseKind(report.kind)
    except ValueError:
        raise InvalidInput(
            N_("The case type must be a report or a reprisal complaint."), field="kind"
        ) from None
    # A report filed under the reprisal category is a reprisal complaint, ticked or not.
    return CaseKind.REPRISAL if report.category == REPRISAL_CATEGORY else kind


def _channel(channel: str) -> Channel:
    try:
        return Channel(channel)
    except ValueError:
        raise InvalidInput(
            N_("The channel must be phone, mail or in person (or the web form)."), field="channel"
        ) from None


async def _file_report(
    runtime: Runtime,
    report: NewReport,
    stack: ExitStack,
    *,
    channel: str,
    recorded_by: RecordedBy | None,
    files: Sequence[StagedFile],
    case_key: CaseKey,
) -> Filed:
    settings = runtime.settings
    body = records.check_text(
        report.body, limit=settings.max_report_chars, what="report", field_name="body"
    )
    kind = _case_kind(report)
    checked_channel = _channel(channel)
    once_digest = once.digest(runtime, report.once)
    token = crypto.new_token()
    canonical = crypto.normalise_token(token)
    data_key, case_id = case_key.data_key, case_key.case_id
    today = runtime.today()
    # A report entered by staff is asked nothing unless answers come with it.
    answers = (
        await questionnaires.prepare(
            runtime, report.category, report.answers, report.questionnaire, case_key=case_key
        )
        if recorded_by is None or report.answers
        else None
    )
    prepared: list[PreparedAttachment] = []
    if files:
        await _check_category(runtime, report.category)
        prepared = await prepare_attachments(
            runtime, stack, files, data_key=data_key, case_id=case_id
        )
    # What needs no database is prepared before the write lock is taken.
    salt = os.urandom(16)
    pending = _PendingReport(
        report=report,
        kind=kind,
        channel=checked_channel,
        recorded_by=recorded_by,
        today=today,
        case_id=case_id,
        data_key=data_key,
        ref=records.new_ref(),
        lookup=crypto.token_lookup_key(runtime.secrets.token_pepper, canonical),
        salt=salt,
        reporter_wrap=crypto.wrap_key(
            crypto.reporter_key(canonical, salt),
            data_key,
            context=access.reporter_wrap_context(case_id),
        ),
        reporter_public=records.encrypt_reporter_public(
            data_key, case_id, crypto.reporter_keypair(canonical, salt).public
        ),
        entry=records.entry_values(
            crypto.KeyEpochs.first(data_key),
            case_id=case_id,
            seq=1,
            kind=EntryKind.REPORT,
            author=Author.REPORTER,
            on=today,
            body=json.dumps({"body": body}),
            staff_id=recorded_by.staff_id if recorded_by else None,
        ),
        prepared=prepared,
        once=once_digest,
        answers=answers,
        identity=(
            confidential.prepare(
                report.identity, crypto.KeyEpochs.first(data_key), case_id=case_id, today=today
            )
            if report.identity is not None
            else None
        ),
    )
    if prepared:
        # Not batched: the reports batched with a large upload would wait for its chunks.
        (outcome,) = await _write_reports(runtime, [pending])
        if isinstance(outcome, Exception):
            raise outcome
    else:
        outcome = await _report_batcher(runtime).submit(pending)
    return Filed(token=token, ref=pending.ref, case_id=case_id, attachments=outcome)


@dataclass(frozen=True)
class _PendingReport:
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


_Outcome = list[AttachmentOutcome]


# How long the report writer waits for reporters it has just answered to come back (see
# intake/storage/batching.py): measured on two cores, half a millisecond gathered most of them; a
# lone reporter never waits.
REPORT_GATHER_WINDOW = 0.0005  # seconds


def _report_batcher(runtime: Runtime) -> Batcher[_PendingReport, _Outcome]:
    batcher = runtime.batchers.get("reports")
    if batcher is None:
        batcher = runtime.batchers["reports"] = Batcher(
            partial(_write_reports, runtime), gather_window=REPORT_GATHER_WINDOW
        )
    return batcher


_CASE_TABLE = Case.__table__  # type: ignore[attr-defined]
_ENTRY_TABLE = Entry.__table__  # type: ignore[attr-defined]
_CASEKEY_TABLE = CaseKeyRow.__table__  # type: ignore[attr-defined]


@dataclass
class _ReportRows:
    pending: _PendingReport
    case: dict[str, Any]
    keys: list[dict[str, Any]]
    notify: list[routing.KeyHolder]
    identity: confidential.IdentityRows | None = None


async def _write_reports(
    runtime: Runtime, batch: Sequence[_PendingReport]
) -> list[_Outcome | Exception]:
    """Write reports in one transaction (see intake/storage/batching.py).

    Each report is checked first (its category, exclusions, earlier case and
    recipients); one that fails gets its own error and the others are
    written: one insert per table for all of them, one commit.
    """
    settings = runtime.settings
    outcomes: list[_Outcome | Exception] = []
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
        saved: dict[str, _Outcome] = {}
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


def _position(batch: Sequence[_PendingReport], pending: _PendingReport) -> int:
    return next(i for i, item in enumerate(batch) if item is pending)


async def _report_rows(
    session: AsyncSession,
    runtime: Runtime,
    pending: _PendingReport,
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
