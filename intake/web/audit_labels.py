"""Audit events as people read them: a sentence for each action, names for the kinds of event
and for the actors that are not staff members, and the rows of the CSV and JSON downloads.

Sentences are built only from an event's shown facts (``intake/operations/audit_facts.py``), so
nothing here can show more than the reading rules allow.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup

from intake import i18n
from intake.i18n import N_, Phrase
from intake.operations.audit_read import Event
from intake.web import dates
from intake.web.labels import outcome_label, role_phrase, stage_label

KIND_LABELS: dict[str, str] = {
    "case.view": N_("Case opened"),
    "attachment.download": N_("File downloaded"),
    "case.export": N_("Case exported"),
    "case.message": N_("Message to the reporter"),
    "case.note": N_("Internal note"),
    "case.stage": N_("Stage changed"),
    "case.grant": N_("Access given"),
    "case.revoke": N_("Access removed"),
    "case.assign": N_("Assignment"),
    "case.legal_hold": N_("Legal hold"),
    "case.recorded": N_("Report recorded by staff"),
    "case.purged": N_("Deleted under retention"),
    "identity": N_("Confidential identity"),
    "staff.sign_in": N_("Sign-in"),
    "staff.sign_in_failed": N_("Failed sign-in"),
    "staff.sign_out": N_("Sign-out"),
    "staff.password": N_("Password change"),
    "staff.notify": N_("Email notice choice"),
    "staff.search": N_("Search in one's own cases"),
    "admin.staff": N_("Staff account change"),
    "admin.settings": N_("Settings change"),
    "directory": N_("Recipient directory change"),
    "keys": N_("Recovery key"),
    "backup": N_("Backup or restore"),
    "audit.export": N_("Audit log download"),
}

ACTOR_LABELS = {
    "cli": N_("the command line"),
    "system": N_("the server"),
    "unknown": N_("an unknown account"),
    "demo": N_("the demo set-up"),
    "directory": N_("the recipient directory"),
}

# Sentences whose only parameters are facts shown as they are (names, ids, formats).
_PLAIN: dict[str, str] = {
    "case.view": N_("Opened the case"),
    "attachment.download": N_("Downloaded a file of the case"),
    "case.message": N_("Wrote to the reporter"),
    "case.note": N_("Added an internal note"),
    "case.grant": N_("Gave %(person)s access to the case"),
    "case.revoke": N_("Took away the access of %(person)s to the case"),
    "case.legal_hold": N_("Put the case on legal hold"),
    "case.legal_hold_released": N_("Lifted the case's legal hold"),
    "case.recorded": N_("Recorded a report received by phone, mail or in person"),
    "case.purged": N_("Destroyed the case's content under the retention rules"),
    "staff.sign_in": N_("Signed in"),
    "staff.sign_out": N_("Signed out"),
    "staff.password_changed": N_("Changed their password"),
    "staff.search": N_("Searched the words of the cases they hold (the words are not kept)"),
    "admin.staff_update": N_("Changed the staff account %(person)s"),
    "admin.staff_enable": N_("Enabled the staff account %(person)s"),
    "admin.staff_disable": N_("Disabled the staff account %(person)s"),
    "admin.staff_reset": N_("Reset the password of %(person)s"),
    "admin.category_add": N_("Added the category %(category)s"),
    "admin.category_update": N_("Changed the category %(category)s"),
    "admin.deadlines": N_("Changed the deadline rules"),
    "admin.identity": N_("Changed the organisation's identity"),
    "admin.questionnaire": N_("Changed the questions of %(category)s: %(change)s"),
    "directory change approved": N_("Approved the directory change %(change)s"),
    "directory change proposed": N_("Proposed the directory change %(change)s"),
    "directory.approve": N_("Approved the directory change %(change)s"),
    "directory.refuse": N_("Refused the directory change %(change)s"),
    "directory genesis installed": N_("Installed the recipient directory's first entries"),
    "recovery key installed": N_("Installed a recovery key"),
    "recovery key checked": N_("Checked a recovery key"),
    "operations.backup": N_("Made a backup of the instance"),
    "operations.restore": N_("Restored the instance from a backup"),
    "audit.export": N_("Downloaded the audit log (%(format)s)"),
}

# A confidential reporter's identity: who asked is the actor; the facts name the asker's role.
_IDENTITY = {
    "identity.requested": N_("Asked to open the reporter's identity (as %(role)s)"),
    "identity.approved": N_("Approved opening the reporter's identity to the %(role)s who asked"),
    "identity.refused": N_("Refused opening the reporter's identity to the %(role)s who asked"),
}

_FAILURE_REASONS = {
    "unknown or disabled account": N_("unknown or disabled account"),
    "wrong password": N_("wrong password"),
    "wrong code": N_("wrong code"),
    "code used already": N_("code used already"),
}

_NOTIFY_MODES = {
    "immediate": N_("a notice after each event"),
    "digest": N_("one daily summary"),
}


def _failure_reason(reason: str) -> Phrase | str:
    return Phrase(_FAILURE_REASONS[reason]) if reason in _FAILURE_REASONS else reason


def _notify_mode(mode: str) -> Phrase | str:
    return Phrase(_NOTIFY_MODES[mode]) if mode in _NOTIFY_MODES else mode


def _sentence(event: Event) -> Phrase | None:
    facts, action = event.facts, event.action
    if action in _IDENTITY:
        return Phrase(_IDENTITY[action], {"role": role_phrase(facts.get("role", ""))})
    if action == "case.stage":
        if facts.get("outcome") and facts.get("reporter_told") == "no":
            return Phrase(
                N_("Concluded the case: %(outcome)s, with no message to the reporter"),
                {"outcome": outcome_label(facts["outcome"])},
            )
        if facts.get("outcome"):
            return Phrase(
                N_("Concluded the case: %(outcome)s"),
                {"outcome": outcome_label(facts["outcome"])},
            )
        return Phrase(
            N_("Moved the case from %(before)s to %(after)s"),
            {"before": stage_label(facts.get("from")), "after": stage_label(facts.get("to"))},
        )
    if action == "case.assign":
        if "person" in facts:
            return Phrase(N_("Assigned the case to %(person)s"), facts)
        return Phrase(N_("Left the case assigned to nobody"))
    if action == "case.export":
        file_format = str(facts.get("format", "")).upper()
        if facts.get("by") in {"recovery key", "recovery shares"}:
            if file_format:
                return Phrase(
                    N_("Exported the case with the recovery key (%(format)s)"),
                    {"format": file_format},
                )
            return Phrase(N_("Exported the case with the recovery key"))
        if file_format:
            return Phrase(N_("Exported the case (%(format)s)"), {"format": file_format})
        return Phrase(N_("Exported the case"))
    if action == "staff.sign_in_failed":
        reason = _failure_reason(facts.get("reason", ""))
        if "locked_minutes" in facts:
            return Phrase(
                N_("A sign-in failed (%(reason)s); the account is locked for %(minutes)s minutes"),
                {"reason": reason, "minutes": facts["locked_minutes"]},
            )
        return Phrase(N_("A sign-in failed (%(reason)s)"), {"reason": reason})
    if action == "staff.password_change_failed":
        reason = _failure_reason(facts.get("reason", ""))
        if "locked_minutes" in facts:
            return Phrase(
                N_(
                    "A password change failed (%(reason)s); the account is locked for "
                    "%(minutes)s minutes and signed out everywhere"
                ),
                {"reason": reason, "minutes": facts["locked_minutes"]},
            )
        return Phrase(N_("A password change failed (%(reason)s)"), {"reason": reason})
    if action == "staff.notify":
        return Phrase(
            N_("Chose for %(person)s: %(mode)s"),
            {"person": facts.get("person", ""), "mode": _notify_mode(facts.get("mode", ""))},
        )
    if action == "admin.staff_add":
        params: dict[str, object] = {
            "person": facts.get("person", ""),
            "role": role_phrase(facts.get("role", "")),
            "group": facts.get("group", ""),
        }
        if "directory_change" in facts:
            return Phrase(
                N_(
                    "Added the staff account %(person)s (%(role)s, group %(group)s) and "
                    "proposed its directory entry %(change)s"
                ),
                {**params, "change": facts["directory_change"]},
            )
        return Phrase(N_("Added the staff account %(person)s (%(role)s, group %(group)s)"), params)
    if action not in _PLAIN:
        return None
    needed = {name: facts.get(name, "") for name in ("person", "category", "change", "format")}
    shown = {name: value for name, value in needed.items() if f"%({name})s" in _PLAIN[action]}
    return Phrase(_PLAIN[action], shown)


def describe(event: Event) -> str:
    """What happened, as a sentence in the current language; an action this version has no
    sentence for is shown by its stored name."""
    phrase = _sentence(event)
    if phrase is None:
        return event.action
    return phrase.localized(i18n.current_locale())


def actor_name(actor: str) -> str:
    """Who did it: a staff member's email address, or what the command line or server is called."""
    if actor in ACTOR_LABELS:
        return i18n.gettext(ACTOR_LABELS[actor])
    return actor


def kind_name(kind: str) -> str:
    return i18n.gettext(KIND_LABELS[kind]) if kind in KIND_LABELS else kind


def utc_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def as_record(event: Event) -> dict[str, Any]:
    """An event in the JSON answer and download: its time in UTC, who, the kind, the case
    reference (null when it is about no case), the sentence and the facts it was made from."""
    record: dict[str, Any] = {
        "at": utc_time(event.at),
        "actor": event.actor,
        "kind": event.kind,
        "action": event.action,
        "case": event.case_ref,
        "description": describe(event),
        "facts": dict(event.facts),
    }
    if event.seq is not None:
        record["seq"] = event.seq
    return record


@dataclass(frozen=True)
class Row:
    """One line of the audit table or a case's history, in the request's language."""

    when: Markup  # a <time> element (intake/web/dates.py)
    who: str
    kind: str
    what: str
    case_ref: str | None


def table_rows(events: Iterable[Event], zone: str) -> list[Row]:
    rows = []
    for event in events:
        rows.append(
            Row(
                when=dates.moment(event.at, zone),
                who=actor_name(event.actor),
                kind=kind_name(event.kind),
                what=describe(event),
                case_ref=event.case_ref,
            )
        )
    return rows


CSV_COLUMNS = ("at", "actor", "kind", "case", "description")


def csv_cell(value: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def to_csv(events: Iterable[Event]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for event in events:
        record = as_record(event)
        writer.writerow([csv_cell(str(record[name] or "")) for name in CSV_COLUMNS])
    return buffer.getvalue()


def to_json(events: Iterable[Event]) -> str:
    return json.dumps({"events": [as_record(event) for event in events]}, indent=1)
