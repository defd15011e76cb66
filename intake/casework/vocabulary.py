"""The workflow's vocabulary: the plain values stored in the database, as types.

Each is a ``StrEnum`` whose values are exactly the strings the database holds (a member
compares equal to its string), so rows written before these types existed read back unchanged.

"Kind" names two different things, kept apart here: a case's kind (:class:`CaseKind`, a report
or a reprisal complaint) and an entry's kind (:class:`EntryKind`, what a piece of writing on a
case is: the report, a message, a note, the reason for the outcome).
"""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    """Where a case stands (ISO 37002 stages)."""

    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    ASSESSING = "assessing"
    INVESTIGATING = "investigating"
    CONCLUDED = "concluded"


class Outcome(StrEnum):
    """How a concluded case ended."""

    SUBSTANTIATED = "substantiated"
    NOT_SUBSTANTIATED = "not_substantiated"
    REFERRED = "referred"
    NO_ACTION = "no_action"


class CaseKind(StrEnum):
    """What a case is: a report of a concern, or a complaint of reprisal for having reported."""

    REPORT = "report"
    REPRISAL = "reprisal"


class Channel(StrEnum):
    """How a report came in: the web form, or entered by staff on the reporter's behalf."""

    WEB = "web"
    PHONE = "phone"
    MAIL = "mail"
    IN_PERSON = "in_person"


class Role(StrEnum):
    """A staff member's role (what each may do on a case: intake/casework/access.py)."""

    OFFICER = "officer"
    INVESTIGATOR = "investigator"
    ADMIN = "admin"
    # Approves an officer's request to open a confidential reporter's identity; opens no case.
    CUSTODIAN = "custodian"


class EntryKind(StrEnum):
    """What one entry of a case (a piece of writing, encrypted) is."""

    REPORT = "report"
    MESSAGE = "message"
    NOTE = "note"
    OUTCOME_REASON = "outcome"


class Author(StrEnum):
    """Who wrote an entry: the reporter, or the office (a staff member)."""

    REPORTER = "reporter"
    OFFICE = "office"


#: Stages a case moves through before it is concluded; the feedback deadline runs in these.
OPEN_AFTER_ACKNOWLEDGEMENT = (Stage.ACKNOWLEDGED, Stage.ASSESSING, Stage.INVESTIGATING)
#: Channels staff record a report through (everything but the web form).
STAFF_CHANNELS = (Channel.PHONE, Channel.MAIL, Channel.IN_PERSON)
