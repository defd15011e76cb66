"""The case export's words, in the reader's language: the case's facts with their labels (never
the stored values such as ``web`` or ``assessing``), who wrote each entry, each file's size and
cleaning outcome. The HTML file (:mod:`intake.web.export_file`) and the PDF
(:mod:`intake.web.pdf.case`) both take them from here, so the two say the same thing.
"""

from __future__ import annotations

from datetime import date

from intake import i18n
from intake.attachments.store import StoredAttachment
from intake.casework.export import CaseExport, ExportedEntry
from intake.i18n import N_
from intake.web.labels import case_kind_label, channel_label, outcome_label, stage_label

NONE = "—"

SECTION_TITLES = {
    "report": N_("The report"),
    "messages": N_("Messages with the reporter"),
    "notes": N_("Internal notes"),
    "outcomes": N_("Reason for the outcome"),
    "files": N_("Files from the reporter"),
    "answers": N_("The reporter's answers"),
}


def day(value: date | None) -> str:
    return i18n.format_day(value) if value else NONE


def title(export: CaseExport) -> str:
    return i18n.gettext(N_("Case %(ref)s"), {"ref": export.case.ref})


def warning(export: CaseExport) -> str:
    """The sentence at the top of every export: what the file holds and who made it, when."""
    return i18n.gettext(
        N_(
            "Confidential: this file holds the decrypted content of a disclosure case. Keep it "
            "as carefully as the case itself; delete it when it is no longer needed. Exported "
            "on %(day)s by %(person)s."
        ),
        {"day": day(export.exported_on), "person": export.exported_by},
    )


def fact_rows(export: CaseExport) -> list[tuple[str, str]]:
    """The case's facts as (label, value) rows, both in the reader's language."""
    case = export.case
    gettext = i18n.gettext
    return [
        (gettext(N_("Reference")), case.ref),
        (gettext(N_("Type")), case_kind_label(case.kind)),
        (gettext(N_("Came in by")), channel_label(case.channel)),
        (gettext(N_("Category")), gettext(export.category_label)),
        (gettext(N_("Received")), day(case.received_on)),
        (gettext(N_("Stage")), stage_label(case.stage)),
        (gettext(N_("Acknowledged")), day(case.acknowledged_on)),
        (gettext(N_("Concluded")), day(case.concluded_on)),
        (gettext(N_("Outcome")), outcome_label(case.outcome) or NONE),
        (gettext(N_("Legal hold")), gettext(N_("Yes")) if case.legal_hold else gettext(N_("No"))),
    ]


def report_label(label: str) -> str:
    """A report field's label: a catalog message id where the export knows one (translated),
    else the answer's own name, shown as it is."""
    return i18n.gettext(label)


def entry_heading(entry: ExportedEntry) -> str:
    """Who wrote an entry, and on which day."""
    if entry.author == "reporter":
        who = i18n.gettext(N_("From the reporter"))
    elif entry.css == "note":
        who = entry.staff_name or i18n.gettext(N_("The office"))
    elif entry.staff_name:
        who = i18n.gettext(N_("From the office (%(name)s)"), {"name": entry.staff_name})
    else:
        who = i18n.gettext(N_("From the office"))
    return f"{who}, {day(entry.on)}"


def size_words(count: int) -> str:
    """A file's exact size: ``1,234 bytes`` / ``1 234 octets``."""
    return i18n.ngettext("%(num)s byte", "%(num)s bytes", count)


def cleaning_words(attachment: StoredAttachment) -> str:
    if attachment.cleaned:
        return i18n.gettext(N_("metadata removed"))
    return i18n.gettext(
        N_("not cleaned: it may still carry hidden details such as an author or a location")
    )


def file_line(attachment: StoredAttachment) -> str:
    """One file of the list: its name, size, type and cleaning outcome."""
    return (
        f"{attachment.name} — {size_words(attachment.size)}, "
        f"{attachment.content_type or 'application/octet-stream'} ({cleaning_words(attachment)})"
    )


def may_identify_words() -> str:
    """Beside an answer to a question marked as one that may identify the reporter."""
    return i18n.gettext(N_("may identify the reporter"))


def none_words() -> str:
    return i18n.gettext(N_("None."))
