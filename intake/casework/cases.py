"""The case workflow, reporter side: submit a report, look a case up by token, message the office.

Everything a person wrote is encrypted with the case's data key before it
reaches the session; the token is used only to derive the lookup hash and
the reporter's key, and is never stored.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any, Protocol, TypeVar

import anyio.to_thread
from sqlalchemy import and_, bindparam, insert, literal, null, text, union_all
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

import crypto
from intake import mail
from intake.accounts import keyring
from intake.attachments import store as attachment_store
from intake.attachments.prepare import Cleaning, PreparedAttachment, prepare
from intake.attachments.staging import CaseKey, StagedFile, staging_directory
from intake.casework import deadline_settings, routing
from intake.config import Settings
from intake.deadlines import DeadlineRules
from intake.errors import CaseDeleted, CaseNotFound, InvalidInput, QuietlineError, TokenMistyped
from intake.i18n import N_
from intake.operations import audit
from intake.runtime import Runtime
from intake.storage import db
from intake.storage.batching import Batcher
from intake.storage.models import Case, Category, Entry, Setting, Staff, new_id
from intake.storage.models import CaseKey as CaseKeyRow

STAGES = ("received", "acknowledged", "assessing", "investigating", "concluded")
REF_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


KINDS = ("report", "reprisal")
CHANNELS = ("web", "phone", "mail", "in_person")
EXCLUSIONS_FIELD = "exclusions"
REPRISAL_CATEGORY = "reprisal"


@dataclass(frozen=True)
class NewReport:
    category: str
    body: str
    involves_office: bool = False
    excluded_staff_ids: tuple[str, ...] = ()
    kind: str = "report"
    # The token of the case a reprisal complaint follows from, when the reporter has it.
    original_token: str | None = None


@dataclass(frozen=True)
class AttachmentOutcome:
    """What the reporter is told about one file they sent."""

    name: str
    size: int
    cleaning: Cleaning


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


@dataclass(frozen=True)
class Message:
    sender: str  # "office" | "reporter"
    body: str
    on: date


@dataclass(frozen=True)
class CaseStatus:
    stage: str
    received_on: date
    ack_due: date | None
    feedback_due: date | None
    outcome: str | None
    messages: list[Message] = field(default_factory=list)


CASE_DELETED_MESSAGE = (
    "This case is closed and its records have been deleted, as the office's retention rules "
    "require. Nothing of it can be read any more, and no message can be sent with this token. "
    "If you have a new concern, please make a new report."
)


def new_ref() -> str:
    """The staff-facing reference: random, and unrelated to the token."""
    chars = "".join(secrets.choice(REF_ALPHABET) for _ in range(10))
    return f"QL-{chars[:5]}-{chars[5:]}"


def entry_field(kind: str, entry_id: str) -> str:
    return f"{kind}:{entry_id}"


def reporter_wrap_context(case_id: str) -> str:
    return f"reporter:{case_id}"


# What a reporter is told about a text they wrote, by kind of text (report or message).
_TEXT_PROBLEMS = {
    "report": {
        "empty": N_("The report is empty: please write what happened."),
        "long": N_(
            "The report is too long: %(count)s characters, the limit is %(limit)s. "
            "Please shorten it; you can add more later as a follow-up message."
        ),
        "unsavable": N_("The report contains a character that cannot be saved."),
    },
    "message": {
        "empty": N_("The message is empty: please write something to send."),
        "long": N_(
            "The message is too long: %(count)s characters, the limit is %(limit)s. "
            "Please shorten it, or send it in two parts."
        ),
        "unsavable": N_("The message contains a character that cannot be saved."),
    },
    "text": {
        "empty": N_("The text is empty: please write something."),
        "long": N_("The text is too long: %(count)s characters, the limit is %(limit)s."),
        "unsavable": N_("The text contains a character that cannot be saved."),
    },
    "note": {
        "empty": N_("The note is empty: please write something."),
        "long": N_("The note is too long: %(count)s characters, the limit is %(limit)s."),
        "unsavable": N_("The note contains a character that cannot be saved."),
    },
    "reason for the outcome": {
        "empty": N_("The reason for the outcome is empty: please write it."),
        "long": N_(
            "The reason for the outcome is too long: %(count)s characters, the limit is %(limit)s."
        ),
        "unsavable": N_("The reason for the outcome contains a character that cannot be saved."),
    },
}


def _check_text(text: str, *, limit: int, what: str, field_name: str) -> str:
    problem = None
    if not text.strip():
        problem = "empty"
    elif len(text) > limit:
        problem = "long"
    elif "\x00" in text or not _encodable(text):
        problem = "unsavable"
    if problem:
        sentence = _TEXT_PROBLEMS.get(what, _TEXT_PROBLEMS["text"])[problem]
        raise InvalidInput(sentence, field=field_name, count=len(text), limit=limit)
    return text


def _encodable(text: str) -> bool:
    """False for text with a lone surrogate (JSON allows "\\ud800"; UTF-8 does not)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


async def active_categories(session: AsyncSession) -> list[Category]:
    result = await session.exec(
        select(Category).where(col(Category.active)).order_by(col(Category.position))
    )
    return list(result.all())


async def _next_seq(session: AsyncSession, case_id: str) -> int:
    """Reserve the next entry number of a case (row-locks the case until commit)."""
    connection = await session.connection()
    result = await connection.execute(
        text('UPDATE "case" SET next_seq = next_seq + 1 WHERE id = :id RETURNING next_seq'),
        {"id": case_id},
    )
    return int(result.scalar_one()) - 1


_CASE_TABLE = Case.__table__  # type: ignore[attr-defined]
_ENTRY_TABLE = Entry.__table__  # type: ignore[attr-defined]
_CASEKEY_TABLE = CaseKeyRow.__table__  # type: ignore[attr-defined]
_CATEGORY_TABLE = Category.__table__  # type: ignore[attr-defined]
_SETTING_TABLE = Setting.__table__  # type: ignore[attr-defined]


def _entry_values(
    data_key: bytes,
    *,
    case_id: str,
    seq: int,
    kind: str,
    author: str,
    on: date,
    body: str,
    staff_id: str | None = None,
) -> dict[str, Any]:
    """An entry's columns, its body encrypted for the case and bound to the entry's id."""
    entry_id = new_id()
    return {
        "id": entry_id,
        "case_id": case_id,
        "seq": seq,
        "kind": kind,
        "author": author,
        "on": on,
        "staff_id": staff_id,
        "body": crypto.encrypt_field(
            data_key, body.encode("utf-8"), case_id=case_id, field=entry_field(kind, entry_id)
        ),
    }


def _encrypted_entry(data_key: bytes, **columns: Any) -> Entry:
    """The same as :func:`_entry_values`, as a model object for the ORM."""
    return Entry(**_entry_values(data_key, **columns))


def decrypt_entry(data_key: bytes, entry: Entry) -> str:
    return crypto.decrypt_field(
        data_key, entry.body, case_id=entry.case_id, field=entry_field(entry.kind, entry.id)
    ).decode("utf-8")


async def exclusion_choices(session: AsyncSession) -> list[Staff]:
    """The people a reporter may ask never to receive their report."""
    result = await session.exec(
        select(Staff)
        .where(col(Staff.active))
        .where(col(Staff.exclusion_label).is_not(None))
        .order_by(Staff.exclusion_label)
    )
    return list(result.all())


async def _checked_exclusions(session: AsyncSession, wanted: tuple[str, ...]) -> tuple[str, ...]:
    if not wanted:
        return ()
    offered = {person.id for person in await exclusion_choices(session)}
    if not set(wanted) <= offered:
        raise InvalidInput("Please choose people to exclude from the list only.", field="exclude")
    return tuple(sorted(set(wanted)))


def encrypt_exclusions(data_key: bytes, case_id: str, staff_ids: tuple[str, ...]) -> bytes:
    return crypto.encrypt_field(
        data_key, json.dumps(list(staff_ids)).encode(), case_id=case_id, field=EXCLUSIONS_FIELD
    )


def decrypt_exclusions(data_key: bytes, case: Case) -> set[str]:
    if case.exclusions is None:
        return set()
    plain = crypto.decrypt_field(data_key, case.exclusions, case_id=case.id, field=EXCLUSIONS_FIELD)
    return set(json.loads(plain))


async def _original_case_id(session: AsyncSession, runtime: Runtime, token: str) -> str:
    try:
        canonical = crypto.normalise_token(token)
    except crypto.TokenTypo as exc:
        raise InvalidInput(f"The earlier case's token: {exc}", field="original_token") from exc
    lookup = crypto.token_lookup_key(runtime.secrets.token_pepper, canonical)
    found = (await session.exec(select(Case.id).where(Case.lookup == lookup))).first()
    if found is None:
        raise InvalidInput(
            "No case matches the earlier case's token. Please check it, or leave it out.",
            field="original_token",
        )
    return found


async def submit_report(runtime: Runtime, report: NewReport, *, channel: str = "web") -> str:
    """File a report; return the reporter's token only once it is durably committed."""
    return (await file_report(runtime, report, channel=channel)).token


async def _prepare_all(
    runtime: Runtime,
    stack: ExitStack,
    files: Sequence[StagedFile],
    *,
    data_key: bytes,
    case_id: str,
) -> list[PreparedAttachment]:
    """Clean and encrypt each staged file for the case (in a worker thread, one at a time)."""
    directory = staging_directory(runtime.settings.data_dir)
    prepared = []
    for staged in files:
        item = await anyio.to_thread.run_sync(
            lambda staged=staged: prepare(
                staged,
                directory=directory,
                data_key=data_key,
                case_id=case_id,
                clean_max_bytes=runtime.settings.attachment_clean_max_bytes,
            )
        )
        stack.callback(item.close)
        prepared.append(item)
    return prepared


async def _save_all(
    session: AsyncSession,
    data_key: bytes,
    prepared: Sequence[PreparedAttachment],
    *,
    case_id: str,
    entry_id: str,
) -> list[AttachmentOutcome]:
    for position, item in enumerate(prepared):
        await attachment_store.save(
            session, data_key, case_id=case_id, entry_id=entry_id, position=position, prepared=item
        )
    return [AttachmentOutcome(item.name, item.size, item.cleaning) for item in prepared]


async def _check_category(runtime: Runtime, category: str) -> None:
    async with runtime.sessions() as session:
        categories = {item.id for item in await active_categories(session)}
    if category not in categories:
        raise InvalidInput("Please choose one of the listed categories.", field="category")


def new_case_key() -> CaseKey:
    """A data key and id for a case not yet filed, so its files can be encrypted for it as they
    arrive (pass it to the upload reader and then to :func:`file_report`)."""
    return CaseKey(data_key=crypto.new_data_key(), case_id=new_id())


async def file_report(
    runtime: Runtime,
    report: NewReport,
    *,
    channel: str = "web",
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
    body = _check_text(
        report.body, limit=settings.max_report_chars, what="report", field_name="body"
    )
    if report.kind not in KINDS:
        raise InvalidInput("The case type must be a report or a reprisal complaint.", field="kind")
    # A report filed under the reprisal category is a reprisal complaint, ticked or not.
    kind = "reprisal" if report.category == REPRISAL_CATEGORY else report.kind
    if channel not in CHANNELS:
        raise InvalidInput(
            "The channel must be phone, mail or in person (or the web form).", field="channel"
        )
    token = crypto.new_token()
    canonical = crypto.normalise_token(token)
    data_key, case_id = case_key.data_key, case_key.case_id
    today = runtime.today()
    prepared: list[PreparedAttachment] = []
    if files:
        await _check_category(runtime, report.category)
        prepared = await _prepare_all(runtime, stack, files, data_key=data_key, case_id=case_id)
    # What needs no database is prepared before the write lock is taken.
    salt = os.urandom(16)
    pending = _PendingReport(
        report=report,
        kind=kind,
        channel=channel,
        recorded_by=recorded_by,
        today=today,
        case_id=case_id,
        data_key=data_key,
        ref=new_ref(),
        lookup=crypto.token_lookup_key(runtime.secrets.token_pepper, canonical),
        salt=salt,
        reporter_wrap=crypto.wrap_key(
            crypto.reporter_key(canonical, salt), data_key, context=reporter_wrap_context(case_id)
        ),
        entry=_entry_values(
            data_key,
            case_id=case_id,
            seq=1,
            kind="report",
            author="reporter",
            on=today,
            body=json.dumps({"body": body}),
            staff_id=recorded_by.staff_id if recorded_by else None,
        ),
        prepared=prepared,
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
    kind: str
    channel: str
    recorded_by: RecordedBy | None
    today: date
    case_id: str
    data_key: bytes = field(repr=False)
    ref: str
    lookup: bytes
    salt: bytes
    reporter_wrap: bytes
    entry: dict[str, Any]
    prepared: list[PreparedAttachment]


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


# What filing reads once per transaction, in one statement (each statement is a round trip,
# and the writer waits behind every request the event loop has ready): the key holders of both
# receiving groups (routing.KEY_HOLDERS), the open categories and the stored deadline rules.
_CATEGORY, _DEADLINES = "category", "deadlines"
_FILING_READ = union_all(
    *routing.KEY_HOLDERS,
    sa_select(
        literal(_CATEGORY), _CATEGORY_TABLE.c.id, null(), literal(""), literal(""), literal("")
    ).where(_CATEGORY_TABLE.c.active),
    sa_select(
        literal(_DEADLINES), _SETTING_TABLE.c.value, null(), literal(""), literal(""), literal("")
    ).where(_SETTING_TABLE.c.key == deadline_settings.KEY),
)


@dataclass
class _FilingRead:
    """What one filing transaction read: the reports of its batch are checked against it."""

    open_categories: set[str]
    rules: DeadlineRules
    holders: list[routing.KeyHolderRow]  # rows of routing.KEY_HOLDERS
    routes: dict[routing.Route, routing.Recipients] = field(default_factory=dict)

    def recipients(
        self, settings: Settings, *, involves_office: bool, excluded: tuple[str, ...]
    ) -> routing.Recipients:
        route = (involves_office, excluded)
        if route not in self.routes:
            self.routes[route] = routing.recipients_from(
                self.holders, settings, involves_office=involves_office, excluded_staff_ids=excluded
            )
        return self.routes[route]


async def _read_for_filing(connection: AsyncConnection, runtime: Runtime) -> _FilingRead:
    rows = (
        await connection.execute(
            _FILING_READ, {"groups": routing.receiving_groups(runtime.settings)}
        )
    ).all()
    stored_rules = next((row.id for row in rows if row.what == _DEADLINES), None)
    return _FilingRead(
        open_categories={row.id for row in rows if row.what == _CATEGORY},
        rules=deadline_settings.rules_from(stored_rules, runtime),
        holders=[row for row in rows if row.what in (routing.HOLDER, routing.RECOVERY)],
    )


@dataclass
class _ReportRows:
    pending: _PendingReport
    case: dict[str, Any]
    keys: list[dict[str, Any]]
    notify: list[routing.KeyHolder]


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
        read = await _read_for_filing(connection, runtime)
        accepted: list[_ReportRows] = []
        for pending in batch:
            try:
                accepted.append(await _report_rows(session, runtime, pending, read))
            except QuietlineError as error:
                outcomes.append(error)
            else:
                outcomes.append([])
        if not accepted:
            return outcomes
        # Core inserts of the columns set here (the table's defaults fill the rest): the ORM's
        # unit of work cost more CPU than everything else a report does.
        await connection.execute(insert(_CASE_TABLE), [rows.case for rows in accepted])
        await connection.execute(insert(_ENTRY_TABLE), [rows.pending.entry for rows in accepted])
        await connection.execute(
            insert(_CASEKEY_TABLE), [key for rows in accepted for key in rows.keys]
        )
        saved: dict[str, _Outcome] = {}
        for rows in accepted:
            pending = rows.pending
            saved[pending.case_id] = await _save_all(
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
        # A new case's key holders are its recipients, just read: no need to look them up.
        people = {person.id: person for rows in accepted for person in rows.notify}
        await mail.queue_notices(session, settings, list(people.values()))
    return [
        outcome if isinstance(outcome, Exception) else saved[pending.case_id]
        for pending, outcome in zip(batch, outcomes, strict=True)
    ]


async def _report_rows(
    session: AsyncSession,
    runtime: Runtime,
    pending: _PendingReport,
    read: _FilingRead,
) -> _ReportRows:
    """Check one report inside the filing transaction; its rows, or its own error."""
    report = pending.report
    if report.category not in read.open_categories:
        raise InvalidInput(N_("Please choose one of the listed categories."), field="category")
    excluded = await _checked_exclusions(session, report.excluded_staff_ids)
    linked = (
        await _original_case_id(session, runtime, report.original_token)
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
        "exclusions": encrypt_exclusions(data_key, case_id, excluded) if excluded else None,
        "next_seq": 2,
    }
    recorder = pending.recorded_by.staff_id if pending.recorded_by else None
    return _ReportRows(
        pending=pending,
        case=case,
        keys=keyring.seal_case_key(case_id, data_key, recipients, received_on=today),
        notify=[person for person in recipients.staff if person.id != recorder],
    )


def _canonical(token_text: str) -> str:
    try:
        return crypto.normalise_token(token_text)
    except crypto.TokenTypo as exc:
        raise TokenMistyped(exc.template, field="token", **exc.params) from exc


async def _open_by_token(
    session: AsyncSession, runtime: Runtime, token_text: str
) -> tuple[Case, bytes]:
    canonical = _canonical(token_text)
    lookup = crypto.token_lookup_key(runtime.secrets.token_pepper, canonical)
    case = (await session.exec(select(Case).where(Case.lookup == lookup))).first()
    return _opened_by_reporter(canonical, case)


class _TokenOpens(Protocol):
    """What opening a case with the reporter's token reads: a Case, or a row of its columns."""

    @property
    def id(self) -> str: ...
    @property
    def salt(self) -> bytes: ...
    @property
    def reporter_wrap(self) -> bytes | None: ...
    @property
    def purged_on(self) -> date | None: ...


_Found = TypeVar("_Found", bound=_TokenOpens)


def _opened_by_reporter(canonical: str, case: _Found | None) -> tuple[_Found, bytes]:
    """The case and its data key, opened with the reporter's token; or what the reporter is told
    when no case matches or it was purged. ``case`` is a Case or a row with its columns."""
    if case is not None and case.purged_on is not None:
        raise CaseDeleted(CASE_DELETED_MESSAGE)
    if case is None or case.reporter_wrap is None:
        raise CaseNotFound(
            N_(
                "No report matches this token. Please check it; if it is right, the case may "
                "have been closed and deleted."
            ),
            field="token",
        )
    data_key = crypto.unwrap_key(
        crypto.reporter_key(canonical, case.salt),
        case.reporter_wrap,
        context=reporter_wrap_context(case.id),
    )
    return case, data_key


# The reporter's status page is the busiest read: one Core statement (the case and its
# messages, joined) on a bare connection, without the ORM's unit of work.
_STATUS = (
    sa_select(
        _CASE_TABLE.c.id,
        _CASE_TABLE.c.salt,
        _CASE_TABLE.c.reporter_wrap,
        _CASE_TABLE.c.stage,
        _CASE_TABLE.c.received_on,
        _CASE_TABLE.c.acknowledged_on,
        _CASE_TABLE.c.ack_due,
        _CASE_TABLE.c.feedback_due,
        _CASE_TABLE.c.outcome,
        _CASE_TABLE.c.purged_on,
        _ENTRY_TABLE.c.id.label("message_id"),
        _ENTRY_TABLE.c.author.label("message_author"),
        _ENTRY_TABLE.c.on.label("message_on"),
        _ENTRY_TABLE.c.body.label("message_body"),
    )
    .select_from(
        _CASE_TABLE.outerjoin(
            _ENTRY_TABLE,
            and_(_ENTRY_TABLE.c.case_id == _CASE_TABLE.c.id, _ENTRY_TABLE.c.kind == "message"),
        )
    )
    .where(_CASE_TABLE.c.lookup == bindparam("lookup"))
    .order_by(_ENTRY_TABLE.c.seq)
)


async def status_by_token(runtime: Runtime, token_text: str) -> CaseStatus:
    canonical = _canonical(token_text)
    lookup = crypto.token_lookup_key(runtime.secrets.token_pepper, canonical)
    async with db.single_statement(runtime.engine) as connection:
        rows = (await connection.execute(_STATUS, {"lookup": lookup})).all()
    case, data_key = _opened_by_reporter(canonical, rows[0] if rows else None)
    messages = [
        Message(
            sender="reporter" if row.message_author == "reporter" else "office",
            body=crypto.decrypt_field(
                data_key,
                row.message_body,
                case_id=case.id,
                field=entry_field("message", row.message_id),
            ).decode("utf-8"),
            on=row.message_on,
        )
        for row in rows
        if row.message_id is not None
    ]
    return CaseStatus(
        stage=case.stage,
        received_on=case.received_on,
        ack_due=case.ack_due if case.acknowledged_on is None else None,
        feedback_due=case.feedback_due,
        outcome=case.outcome,
        messages=messages,
    )


async def add_reporter_message(
    runtime: Runtime, token_text: str, body: str, *, files: Sequence[StagedFile] = ()
) -> list[AttachmentOutcome]:
    """Add a reporter's message, with its attachments, in one transaction."""
    if not (files and not body.strip()):
        body = _check_text(
            body, limit=runtime.settings.max_message_chars, what="message", field_name="body"
        )
    with ExitStack() as stack:
        prepared: list[PreparedAttachment] = []
        if files:
            async with runtime.sessions() as session:
                case, data_key = await _open_by_token(session, runtime, token_text)
            prepared = await _prepare_all(runtime, stack, files, data_key=data_key, case_id=case.id)
        async with db.transaction(runtime.sessions) as session:
            case, data_key = await _open_by_token(session, runtime, token_text)
            seq = await _next_seq(session, case.id)
            entry = _encrypted_entry(
                data_key,
                case_id=case.id,
                seq=seq,
                kind="message",
                author="reporter",
                on=runtime.today(),
                body=body,
            )
            session.add(entry)
            await session.flush()
            outcomes = await _save_all(
                session, data_key, prepared, case_id=case.id, entry_id=entry.id
            )
            await mail.queue_case_notice(session, runtime, case.id)
            return outcomes
