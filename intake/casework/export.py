"""Export one case as a self-contained HTML file: the report, messages, notes and
attachments, for someone who holds a key to it. Every export is audited.

The file holds decrypted content: whoever exports it is responsible for it. It
carries no script and loads nothing (a Content-Security-Policy in the file says
so to the browser that opens it); attachments are embedded as data: links.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date

from markupsafe import escape
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.accounts.sessions import SignedIn
from intake.attachments import store as attachment_store
from intake.casework import access, records
from intake.errors import CaseNotFound
from intake.operations import audit
from intake.runtime import Runtime
from intake.storage import db
from intake.storage.models import Case, Category, Entry, Staff


@dataclass(frozen=True)
class ExportedAttachment:
    name: str
    content: bytes
    cleaned: str = ""


async def _attachments(
    session: AsyncSession, runtime: Runtime, case: Case, data_key: bytes
) -> list[ExportedAttachment]:
    """The case's files, decrypted (whole: an export embeds them)."""
    files = []
    for stored in await attachment_store.list_for_case(session, case.id, data_key):
        pieces = attachment_store.plaintext(runtime.sessions, stored, data_key)
        content = b"".join([piece async for piece in pieces])
        cleaned = "metadata removed" if stored.cleaned else "not cleaned"
        files.append(ExportedAttachment(stored.name, content, cleaned))
    return files


STYLE = """
body { font: 1rem/1.5 system-ui, sans-serif; max-width: 48rem; margin: 2rem auto; padding: 0 1rem;
  color: #1d2329; }
.warning { border: 2px solid #a4161a; padding: .5rem 1rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dt { font-weight: 600; } dd { margin: 0; }
article { border: 1px solid #d8d4cc; padding: .5rem 1rem; margin: .75rem 0; }
article.note { background: #fff8e1; } article.office { border-left: 4px solid #1f5f8b; }
article h3 { font-size: .95rem; margin: .2rem 0; color: #4a5560; }
.body { white-space: pre-wrap; }
"""
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _report_text(raw: str) -> list[tuple[str, str]]:
    """The report entry holds JSON: the text and any further answers."""
    try:
        fields = json.loads(raw)
    except ValueError:
        return [("Report", raw)]
    if not isinstance(fields, dict):
        return [("Report", raw)]
    return [
        ("What happened" if key == "body" else key.replace("_", " ").capitalize(), str(value))
        for key, value in fields.items()
    ]


async def render_bundle(
    session: AsyncSession,
    runtime: Runtime,
    case: Case,
    data_key: bytes,
    *,
    exported_by: str,
    exported_on: date,
) -> AsyncIterator[str]:
    """The HTML file, in pieces (attachments can be large)."""
    category = await session.get(Category, case.category)
    entries = (
        await session.exec(select(Entry).where(Entry.case_id == case.id).order_by(col(Entry.seq)))
    ).all()
    staff_names = {person.id: person.name for person in (await session.exec(select(Staff))).all()}
    facts = [
        ("Reference", case.ref),
        ("Kind", "Reprisal complaint" if case.kind == "reprisal" else "Report"),
        ("Received through", case.channel.replace("_", " ")),
        ("Category", category.label if category else case.category),
        ("Received on", case.received_on.isoformat()),
        ("Stage", case.stage),
        ("Acknowledged on", case.acknowledged_on.isoformat() if case.acknowledged_on else "—"),
        ("Concluded on", case.concluded_on.isoformat() if case.concluded_on else "—"),
        ("Outcome", (case.outcome or "—").replace("_", " ")),
        ("Legal hold", "yes" if case.legal_hold else "no"),
    ]
    yield (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>Case {escape(case.ref)}</title><style>{STYLE}</style></head><body>"
        f"<h1>Case {escape(case.ref)}</h1>"
        '<p class="warning">Confidential: this file holds the decrypted content of a '
        "disclosure case. Keep it as carefully as the case itself; delete it when it is no "
        f"longer needed. Exported on {exported_on.isoformat()} by {escape(exported_by)}.</p>"
        "<dl>"
        + "".join(f"<dt>{escape(name)}</dt><dd>{escape(value)}</dd>" for name, value in facts)
        + "</dl>"
    )
    sections: dict[str, list[str]] = {"report": [], "message": [], "note": [], "outcome": []}
    for entry in entries:
        text = records.decrypt_entry(data_key, entry)
        who = (
            "Reporter"
            if entry.author == "reporter"
            else staff_names.get(entry.staff_id or "", "Office")
        )
        if entry.kind == "report":
            body = "".join(
                f'<h3>{escape(label)}</h3><p class="body">{escape(value)}</p>'
                for label, value in _report_text(text)
            )
            sections["report"].append(f"<article>{body}</article>")
            continue
        css = "note" if entry.kind in {"note", "outcome"} else entry.author
        sections.setdefault(entry.kind, []).append(
            f'<article class="{escape(css)}"><h3>{escape(who)}, {entry.on.isoformat()}</h3>'
            f'<p class="body">{escape(text)}</p></article>'
        )
    yield "<h2>The report</h2>" + ("".join(sections["report"]) or "<p>None.</p>")
    yield "<h2>Messages with the reporter</h2>" + ("".join(sections["message"]) or "<p>None.</p>")
    yield "<h2>Internal notes</h2>" + ("".join(sections["note"]) or "<p>None.</p>")
    if sections["outcome"]:
        yield "<h2>Reason for the outcome</h2>" + "".join(sections["outcome"])
    files = await _attachments(session, runtime, case, data_key)
    yield "<h2>Attachments</h2>"
    if not files:
        yield "<p>None.</p>"
    for item in files:
        encoded = base64.b64encode(item.content).decode("ascii")
        cleaned = f" ({escape(item.cleaned)})" if item.cleaned else ""
        yield (
            f'<p><a download="{escape(item.name)}" '
            f'href="data:application/octet-stream;base64,{encoded}">{escape(item.name)}</a> '
            f"— {len(item.content):,} bytes{cleaned}</p>"
        )
    yield "</body></html>\n"


async def _bundle(runtime: Runtime, case: Case, data_key: bytes, *, actor: str) -> str:
    async with runtime.sessions() as session:
        pieces = [
            piece
            async for piece in render_bundle(
                session, runtime, case, data_key, exported_by=actor, exported_on=runtime.today()
            )
        ]
    return "".join(pieces)


async def export_for_staff(runtime: Runtime, signed_in: SignedIn, ref: str) -> tuple[Case, str]:
    """A staff member exports a case they hold a key to (any role that may read it);
    anyone else is answered as if the case did not exist. Audited."""
    access.require_role(signed_in, "view")
    async with db.transaction(runtime.sessions) as session:
        case, data_key = await access.open_for_staff(session, signed_in, ref)
        await audit.record(
            session,
            actor=signed_in.actor,
            action="case.export",
            case_ref=case.ref,
            detail={"by": "staff key"},
        )
    return case, await _bundle(runtime, case, data_key, actor=signed_in.actor)


def file_name(case: Case) -> str:
    return f"quietline-case-{case.ref}.html"


async def export_case(
    runtime: Runtime,
    *,
    ref: str,
    private_key: bytes,
    staff_id: str | None,
    actor: str,
) -> tuple[Case, str]:
    """Check the key, record the export in the audit log, and return the HTML."""
    async with db.transaction(runtime.sessions) as session:
        case = (await session.exec(select(Case).where(Case.ref == ref.strip().upper()))).first()
        if case is None or case.purged_on is not None:
            raise CaseNotFound("There is no case with this reference (or it was deleted).")
        data_key = await access.open_with_private_key(session, case, private_key, staff_id=staff_id)
        await audit.record(
            session,
            actor=actor,
            action="case.export",
            case_ref=case.ref,
            detail={"by": "recovery key" if staff_id is None else "staff key"},
        )
    return case, await _bundle(runtime, case, data_key, actor=actor)
