"""Export one case as a file: the report, messages, notes and attachments, for someone who
holds a key to it. Every export is audited, with the file's format.

The same gathered case (:class:`CaseExport`) becomes a self-contained HTML file
(:mod:`intake.web.export_file`) or a PDF (:mod:`intake.web.pdf.case`); a new section of the
case is added here once and rendered by both.

Staff export a case they hold with their own key; the command line exports one with k shares of
its group's recovery key (:func:`export_recovered`). The file holds decrypted content: whoever
exports it is responsible for it. It carries no script and loads nothing (a
Content-Security-Policy in the file says so to the browser that opens it); attachments are
embedded as data: links.

The key is checked and the export audited before a byte is written; the file is
then streamed (:mod:`intake.web.export_file` renders it), each attachment
decrypted and base64-encoded row by row, so memory stays flat whatever the size
of the case's files.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

import crypto
from intake.accounts.sessions import SignedIn
from intake.attachments import store as attachment_store
from intake.attachments.embedding import base64_pieces
from intake.attachments.store import StoredAttachment
from intake.casework import access, questionnaires, records, recovery
from intake.casework.questionnaires import ShownAnswer
from intake.errors import CaseNotFound, InvalidInput
from intake.i18n import N_
from intake.operations import audit
from intake.runtime import Runtime
from intake.storage import db
from intake.storage.models import Case, Category, Entry, Staff

FORMATS = ("html", "pdf")


@dataclass(frozen=True)
class ExportedEntry:
    """A message, note or reason for the outcome, as the file shows it: written by the
    reporter, or by the office (``staff_name`` names who, when that account is known)."""

    css: str
    author: str
    staff_name: str | None
    on: date
    text: str


@dataclass(frozen=True)
class CaseExport:
    """Everything the export file shows, decrypted, except the attachments' content, which
    :meth:`encoded` reads from the database piece by piece while the file is written.

    Its HTML is the template ``export/case.html``, rendered as a stream by
    :mod:`intake.web.export_file`.
    """

    case: Case
    exported_by: str
    exported_on: date
    category_label: str
    reports: list[list[tuple[str, str]]]
    messages: list[ExportedEntry]
    notes: list[ExportedEntry]
    outcomes: list[ExportedEntry]
    files: list[StoredAttachment]
    sessions: async_sessionmaker[AsyncSession]
    keys: crypto.KeyEpochs = field(repr=False)
    # The reporter's answers, with the questions as they were asked (questionnaires.py).
    answers: list[ShownAnswer] = field(default_factory=list)

    def file_name(self, file_format: str = "html") -> str:
        return file_name(self.case, file_format)

    def plaintext(self, attachment: StoredAttachment) -> AsyncIterator[bytes]:
        """The attachment's content, decrypted row by row (never written anywhere)."""
        return attachment_store.plaintext(self.sessions, attachment, self.keys.of(attachment.epoch))

    def encoded(self, attachment: StoredAttachment) -> AsyncIterator[str]:
        """The attachment's content in base64, decrypted and encoded row by row."""
        return base64_pieces(self.plaintext(attachment))


REPORT_TEXT = N_("What happened")
REPORT = N_("Report")


def _report_text(raw: str) -> list[tuple[str, str]]:
    """The report entry holds JSON: the text and any further answers. Each label is a catalog
    message id where one is known (translated when shown), else the answer's name."""
    try:
        fields = json.loads(raw)
    except ValueError:
        return [(REPORT, raw)]
    if not isinstance(fields, dict):
        return [(REPORT, raw)]
    return [
        (REPORT_TEXT if key == "body" else key.replace("_", " ").capitalize(), str(value))
        for key, value in fields.items()
    ]


async def gather(
    session: AsyncSession,
    runtime: Runtime,
    case: Case,
    keys: crypto.KeyEpochs,
    *,
    exported_by: str,
    exported_on: date,
) -> CaseExport:
    """The case's facts and decrypted entries, and the list of its attachments."""
    category = await session.get(Category, case.category)
    entries = records.in_order(
        keys, (await session.exec(select(Entry).where(Entry.case_id == case.id))).all()
    )
    place = {entry.id: number for number, entry in enumerate(entries)}
    staff_names = {person.id: person.name for person in (await session.exec(select(Staff))).all()}
    reports: list[list[tuple[str, str]]] = []
    others: dict[str, list[ExportedEntry]] = {"message": [], "note": [], "outcome": []}
    for entry in entries:
        text = records.decrypt_entry(keys, entry)
        if entry.kind == "report":
            reports.append(_report_text(text))
            continue
        if entry.kind not in others:
            continue
        name = None if entry.author == "reporter" else staff_names.get(entry.staff_id or "")
        css = "note" if entry.kind in {"note", "outcome"} else entry.author
        others[entry.kind].append(ExportedEntry(css, entry.author, name, entry.on, text))
    return CaseExport(
        case=case,
        exported_by=exported_by,
        exported_on=exported_on,
        category_label=category.label if category else case.category,
        reports=reports,
        messages=others["message"],
        notes=others["note"],
        outcomes=others["outcome"],
        files=sorted(
            await attachment_store.list_for_case(session, case.id, keys),
            key=lambda item: place.get(item.entry_id, 0),
        ),
        sessions=runtime.sessions,
        keys=keys,
        answers=await questionnaires.read_answers(session, keys, case.id),
    )


async def _bundle(
    runtime: Runtime, case: Case, keys: crypto.KeyEpochs, *, actor: str
) -> CaseExport:
    async with runtime.sessions() as session:
        return await gather(
            session, runtime, case, keys, exported_by=actor, exported_on=runtime.today()
        )


def check_format(file_format: str) -> str:
    """The export's file format, ``html`` or ``pdf``; anything else is refused (422)."""
    if file_format not in FORMATS:
        raise InvalidInput(N_("Choose html or pdf."), field="format")
    return file_format


async def export_for_staff(
    runtime: Runtime, signed_in: SignedIn, ref: str, file_format: str = "html"
) -> CaseExport:
    """A staff member exports a case they hold a key to (any role that may read it);
    anyone else is answered as if the case did not exist. Audited, with the format."""
    check_format(file_format)
    access.require_role(signed_in, "view")
    async with db.transaction(runtime.sessions) as session:
        case, keys = await access.open_for_staff(session, signed_in, ref)
        await audit.record(
            session,
            actor=signed_in.actor,
            action="case.export",
            case_ref=case.ref,
            detail={"by": "staff key", "format": file_format},
        )
    return await _bundle(runtime, case, keys, actor=signed_in.actor)


def file_name(case: Case, file_format: str = "html") -> str:
    return f"quietline-case-{case.ref}.{file_format}"


async def export_case(
    runtime: Runtime,
    *,
    ref: str,
    private_key: bytes,
    staff_id: str,
    actor: str,
    file_format: str = "html",
) -> CaseExport:
    """With a staff member's private key given outright: check it opens their own copy, record
    the export in the audit log, and return what the file shows."""
    check_format(file_format)
    async with db.transaction(runtime.sessions) as session:
        case = (await session.exec(select(Case).where(Case.ref == ref.strip().upper()))).first()
        if case is None or case.purged_on is not None:
            raise CaseNotFound(N_("There is no case with this reference (or it was deleted)."))
        keys = await access.open_with_private_key(session, case, private_key, staff_id=staff_id)
        await audit.record(
            session,
            actor=actor,
            action="case.export",
            case_ref=case.ref,
            detail={"by": "staff key", "format": file_format},
        )
    return await _bundle(runtime, case, keys, actor=actor)


async def export_recovered(
    runtime: Runtime,
    *,
    ref: str,
    shares: Iterable[str],
    force_reason: str | None,
    file_format: str = "html",
) -> CaseExport:
    """With k shares of the case's group's recovery key (intake/casework/recovery.py): refused
    while an active staff member holds the case unless ``force_reason`` says why; audited with
    the reason, before a byte of the file is written."""
    check_format(file_format)
    async with db.transaction(runtime.sessions) as session:
        recovered = await recovery.open_case(
            session, runtime, ref=ref, shares=shares, force_reason=force_reason
        )
        await audit.record(
            session,
            actor=recovery.RECOVERY_ACTOR,
            action="case.export",
            case_ref=recovered.case.ref,
            detail={**recovered.audit_detail(), "format": file_format},
        )
    return await _bundle(runtime, recovered.case, recovered.keys, actor=recovery.RECOVERY_ACTOR)
