"""A case's timeline, as the case page shows it: the messages with the reporter, the internal
notes and what staff did to the case (stage changes, assignments, grants, exports, legal hold),
in one list, oldest first, grouped by day.

Messages and notes come from the decrypted case view; what staff did comes from the case's
audit history (``intake/operations/audit_read.py``), so the timeline shows nothing the history
would not. Entries are kept to the day (a reporter's are only ever known to the day), so within
a day the entries come first, in the order they were written, then the events by their time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from markupsafe import Markup

from intake.casework.view import EntryView
from intake.operations.audit_read import Event
from intake.web import audit_labels, dates

#: The kinds of audit event a timeline shows: what changed the case, not who read it (opening
#: the case and downloading its files are in the case's history table).
KINDS = (
    "case.recorded",
    "case.stage",
    "case.assign",
    "case.grant",
    "case.revoke",
    "case.export",
    "case.legal_hold",
)


@dataclass(frozen=True)
class Item:
    """One line of the timeline: an entry (``message`` or ``note``, with its text) or an
    ``event`` (with its time of day and a sentence)."""

    kind: str
    author: str  # "office", "reporter", or "" for an event
    who: str
    text: str
    time: Markup | None = None


@dataclass(frozen=True)
class Day:
    day: date
    items: list[Item] = field(default_factory=list)


def build(
    messages: Iterable[EntryView], notes: Iterable[EntryView], events: Iterable[Event], zone: str
) -> list[Day]:
    """The timeline's days, oldest first, from a case view's entries and its history."""
    days: dict[date, Day] = {}
    entries = sorted([*messages, *notes], key=lambda entry: entry.seq)
    for entry in entries:
        kind = "note" if entry.kind == "note" else "message"
        days.setdefault(entry.on, Day(entry.on)).items.append(
            Item(kind=kind, author=entry.author, who=entry.staff_name or "", text=entry.body)
        )
    office = ZoneInfo(zone)
    for event in sorted(events, key=lambda event: event.at):
        on = event.at.astimezone(office).date()
        days.setdefault(on, Day(on)).items.append(
            Item(
                kind="event",
                author="",
                who=audit_labels.actor_name(event.actor),
                text=audit_labels.describe(event),
                time=dates.time_of_day(event.at, zone),
            )
        )
    return [days[day] for day in sorted(days)]
