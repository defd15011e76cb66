"""Filing a report: by a reporter through the web form or the API, or entered by staff for a
report received by phone, mail or in person.

Everything the reporter wrote is encrypted with the case's new data key before it reaches the
database; the token is used only to derive the lookup hash and the reporter's key, and is never
stored. Everything that needs no database is prepared here; the filing transaction, which writes
the reports gathered together, is intake/casework/filing_write.py.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

import crypto
from intake.accounts import trusted
from intake.accounts.sessions import SignedIn
from intake.attachments.prepare import PreparedAttachment
from intake.attachments.staging import CaseKey, StagedFile
from intake.casework import access, filing_write, once, questionnaires, records
from intake.casework import identity as confidential
from intake.casework.case_files import (
    AttachmentOutcome,
    prepare_attachments,
)
from intake.casework.vocabulary import Author, CaseKind, Channel, EntryKind
from intake.errors import InvalidInput
from intake.i18n import N_
from intake.runtime import Runtime
from intake.storage.models import Category, new_id

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
    pending = filing_write.PendingReport(
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
        (outcome,) = await filing_write.write_reports(runtime, [pending])
        if isinstance(outcome, Exception):
            raise outcome
    else:
        outcome = await filing_write.report_batcher(runtime).submit(pending)
    return Filed(token=token, ref=pending.ref, case_id=case_id, attachments=outcome)
