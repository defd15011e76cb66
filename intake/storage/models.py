"""Tables. What is plaintext here is plaintext on purpose (see SECURITY.md):
references, categories, stages, due dates, assignment and who holds a key drive
the queue without decrypting anything. Every column a person wrote is a
ciphertext (``bytes``) sealed with the case data key.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from intake.storage.db import UTCDateTime, utcnow


def new_id() -> str:
    return secrets.token_hex(16)


HEX_DIGITS = frozenset("0123456789abcdef")


def is_id(value: object) -> bool:
    """Whether ``value`` has the shape of an id made by :func:`new_id` (checked before a query,
    so hostile text such as a NUL byte never reaches the database)."""
    return isinstance(value, str) and len(value) == 32 and set(value) <= HEX_DIGITS


def Timestamp(*, nullable: bool = False) -> Column:  # noqa: N802 - a column factory
    return Column(UTCDateTime(), nullable=nullable)


class Staff(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    email: str = Field(unique=True, index=True, max_length=254)
    name: str = Field(max_length=200)
    role: str = Field(max_length=20)  # officer | investigator | admin
    group_name: str = Field(index=True, max_length=50)
    active: bool = True
    public_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # The private key and TOTP secret, locked under a key derived from the password.
    credential: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # The public half of the Ed25519 signing key locked in ``credential``; NULL for accounts
    # made before signing keys, until their next password change or reset makes one.
    signing_public: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    totp_last_step: int = 0
    failed_logins: int = 0
    locked_until: datetime | None = Field(default=None, sa_column=Timestamp(nullable=True))
    # Shown to reporters who may ask that this person never receive their report.
    exclusion_label: str | None = Field(default=None, max_length=200)
    # Mail: "immediate" (a content-free notice after a random delay) or "digest" (daily only).
    notify_mode: str = Field(
        default="immediate", max_length=10, sa_column_kwargs={"server_default": "immediate"}
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=Timestamp())


class Category(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=50)
    label: str = Field(max_length=200)
    active: bool = True
    position: int = 0


class Setting(SQLModel, table=True):
    key: str = Field(primary_key=True, max_length=100)
    value: str  # JSON


class RecoveryKey(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    public_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    active: bool = True
    created_on: date = Field(default_factory=date.today)


class Case(SQLModel, table=True):
    # The queue pages through cases newest first: (received_on, id) is its keyset order.
    __table_args__ = (
        Index("ix_case_received_on_id", "received_on", "id"),
        # "Assigned to me" and "overdue" queues walk these in order, then check the key.
        Index("ix_case_assignee_received", "assignee_id", "received_on", "id"),
        Index("ix_case_next_due_id", "next_due", "id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    # The staff-facing reference: random, unrelated to the reporter's token.
    ref: str = Field(unique=True, index=True, max_length=20)
    kind: str = Field(default="report", max_length=20)  # report | reprisal
    channel: str = Field(default="web", max_length=20)  # web | phone | mail | in_person
    category: str = Field(index=True, max_length=50)
    group_name: str = Field(max_length=50)
    involves_office: bool = False
    stage: str = Field(default="received", index=True, max_length=20)
    outcome: str | None = Field(default=None, max_length=30)
    # Reporter-originated times are kept to the day (docs/architecture.md, promise 2).
    received_on: date = Field(index=True)
    acknowledged_on: date | None = None
    concluded_on: date | None = None
    ack_due: date
    feedback_due: date | None = None
    # The due date that counts now: ack_due until acknowledged, then feedback_due; None once
    # concluded. A case is overdue when next_due < today.
    next_due: date | None = None
    assignee_id: str | None = Field(default=None, foreign_key="staff.id", max_length=32)
    linked_case_id: str | None = Field(default=None, foreign_key="case.id", max_length=32)
    # HMAC(pepper, token): finds the case; the token itself is never stored.
    lookup: bytes = Field(sa_column=Column(LargeBinary, nullable=False, unique=True))
    salt: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # The case's first data key wrapped under HKDF(token, salt): the reporter's own key.
    reporter_wrap: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    # Key epochs (intake/casework/epochs.py): the epoch new entries belong to; whether someone
    # lost access since it began, so the next writer starts a new one; the reporter's public
    # key (derived from the token), encrypted with the first key so no database writer can swap
    # it; and every epoch's key sealed to it, once the case has more than one.
    epoch: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    rekey_due: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    reporter_public: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    reporter_sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    next_seq: int = 1
    legal_hold: bool = False
    # Whom the reporter excluded (a JSON list of staff ids), sealed with the case data key:
    # checked whenever a holder grants access, never readable without a key to the case.
    exclusions: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    # Retention (intake/casework/retention.py): the day key holders were told the case will be
    # deleted, and the day its content was destroyed. A purged case keeps only the
    # plaintext facts the register and the statistics need (see SECURITY.md).
    deletion_notice_on: date | None = None
    purged_on: date | None = Field(default=None, index=True)
    # The day the office first answered the reporter; kept so statistics on the
    # feedback deadline stay right after the messages are deleted.
    first_reply_on: date | None = None


class CaseKey(SQLModel, table=True):
    """The case data key sealed to one holder: a staff member or a recovery key."""

    __table_args__ = (
        UniqueConstraint("case_id", "staff_id"),
        UniqueConstraint("case_id", "recovery_key_id"),
        # The queue: one person's cases, newest first, without touching anyone else's.
        Index("ix_casekey_staff_received", "staff_id", "received_on", "case_id"),
    )

    # Random, not a counter: a counter would order the copies written when reports arrive
    # among those written by grants, whose audit events carry exact times.
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    case_id: str = Field(foreign_key="case.id", index=True, max_length=32)
    staff_id: str | None = Field(default=None, foreign_key="staff.id", max_length=32)
    recovery_key_id: str | None = Field(default=None, foreign_key="recoverykey.id", max_length=32)
    # A copy of the case's day of receipt (never changes), so the queue reads in order from here.
    received_on: date | None = None
    sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Entry(SQLModel, table=True):
    """Something a person wrote on a case: the report, a message or a note.

    Its place in the case's conversation is ``position``, encrypted with the case data key, so
    the rows do not tell in which order the reporter's and the office's entries of one day were
    written. ``seq`` is random for entries written since migration 0010 (and the place itself,
    in the clear, for older ones, whose ``position`` is empty): see intake/casework/records.py.
    """

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    case_id: str = Field(foreign_key="case.id", index=True, max_length=32)
    seq: int
    position: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    kind: str = Field(max_length=20)  # report | message | note
    author: str = Field(max_length=20)  # reporter | office
    staff_id: str | None = Field(default=None, foreign_key="staff.id", max_length=32)
    on: date
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # The key epoch its body and position are encrypted in.
    epoch: int = Field(default=1, sa_column_kwargs={"server_default": "1"})


class StaffSession(SQLModel, table=True):
    """A signed-in staff member. The private key is wrapped under a key only the cookie holds."""

    # SHA-256 of the random session id in the cookie: the row alone does not find the cookie.
    id: str = Field(primary_key=True, max_length=64)
    staff_id: str = Field(foreign_key="staff.id", index=True, max_length=32)
    wrapped_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    csrf: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Timestamp())
    last_seen: datetime = Field(sa_column=Timestamp())
    expires_at: datetime = Field(sa_column=Timestamp())


class Attachment(SQLModel, table=True):
    """A file a reporter sent with their report or a message.

    Only that it exists, and with which entry, is plaintext. Its name and its details (size,
    content type, what cleaning did) are fields sealed with the case data key; its content is a
    STREAM ciphertext (``header`` then the sealed chunks in :class:`AttachmentChunk` rows).
    """

    __table_args__ = (UniqueConstraint("entry_id", "position"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    case_id: str = Field(foreign_key="case.id", index=True, max_length=32)
    entry_id: str = Field(foreign_key="entry.id", max_length=32)
    position: int
    header: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    name: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    details: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # The key epoch it is encrypted in (that of the entry it came with).
    epoch: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    # The length of the stored ciphertext (header and chunks), which the chunk rows show anyway:
    # the storage budget sums it (intake/attachments/budget.py) without reading the chunks.
    stored_bytes: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))


class UploadHour(SQLModel, table=True):
    """Attachment bytes stored by reporters' requests in the current hour, for the hourly
    storage budget shared by every process (intake/attachments/budget.py).

    One row, for the hour now running (hours since 1970, UTC); the row of an earlier hour is
    deleted when the next upload is counted. It holds one sum, no case and no request.
    """

    hour: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    stored_bytes: int = Field(sa_column=Column(BigInteger, nullable=False))


class AttachmentChunk(SQLModel, table=True):
    """A run of consecutive sealed chunks of one attachment's ciphertext, in order of ``seq``."""

    attachment_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("attachment.id", ondelete="CASCADE"), primary_key=True
        )
    )
    seq: int = Field(primary_key=True)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class AuditEvent(SQLModel, table=True):
    """One staff action. Rows form a keyed chain: each ``hash`` is a MAC (under the key
    ``key_id`` names, kept outside the database) over the previous one and the event
    (intake/operations/audit.py). Events from before the keyed chain have no ``key_id``: their
    ``hash`` is an unkeyed SHA-256.

    Holds who did what to which case reference, never what anyone wrote.
    """

    # The audit page lists events newest first and pages by time (intake/operations/audit_read).
    __table_args__ = (Index("ix_auditevent_at_seq", "at", "seq"),)

    seq: int = Field(primary_key=True)
    at: datetime = Field(sa_column=Timestamp())
    actor: str = Field(max_length=254)  # a staff email, or "cli" / "system"
    action: str = Field(max_length=50)
    case_ref: str | None = Field(default=None, max_length=20, index=True)
    detail: str = "{}"  # JSON; references and counts only
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
    key_id: str | None = Field(default=None, max_length=16)


class AuditCheckpoint(SQLModel, table=True):
    """A signed statement of the audit chain's head: after ``count`` events the last link was
    ``head`` (intake/operations/audit.py). The same text is appended to the witness file and
    mailed to the audit witnesses, outside the database, where a rewrite cannot follow it."""

    id: int | None = Field(default=None, primary_key=True)
    count: int = Field(index=True)
    head: str = Field(max_length=64)
    at: datetime = Field(sa_column=Timestamp())
    key_id: str = Field(max_length=16)
    text: str  # the signed checkpoint as witnesses keep it


class PurgedHolder(SQLModel, table=True):
    """Who held a sealed copy of a case's key when retention purged it (the copies go with the
    content). Only these people, the case's readers until then, are shown its audit events
    afterwards (intake/operations/audit_read.py)."""

    case_id: str = Field(foreign_key="case.id", primary_key=True, max_length=32)
    staff_id: str = Field(foreign_key="staff.id", primary_key=True, max_length=32)


class Outbox(SQLModel, table=True):
    """An email waiting to leave (intake/mail). A row is deleted once the server accepted it.

    No creation time is kept: ``due_at`` is the randomly delayed moment the email
    may leave (later, the moment of its next attempt). The body holds counts at
    most; a notice has none.
    """

    __table_args__ = (Index("ix_outbox_kind_due_at", "kind", "due_at"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    # None for an audit witness's checkpoint email, which goes to ``to_address`` instead.
    staff_id: str | None = Field(default=None, foreign_key="staff.id", index=True, max_length=32)
    to_address: str | None = Field(default=None, max_length=254)
    kind: str = Field(max_length=10)  # notice | held (waits for the digest) | digest | witness
    body: str = ""
    message_id: str = Field(max_length=200)
    due_at: datetime = Field(sa_column=Timestamp())
    attempts: int = 0
    # A worker's claim: until then no other worker takes the row (see intake/mail/worker.py).
    claimed_until: datetime | None = Field(default=None, sa_column=Timestamp(nullable=True))
    # The kind of the last failure (an SMTP code or error class), never an address.
    last_error: str | None = Field(default=None, max_length=200)


class DirectoryEntry(SQLModel, table=True):
    """One entry of the recipient directory, append-only (intake/accounts/directory.py).

    ``body`` is the entry's canonical JSON; ``signatures`` a JSON object of signer id to the
    hex signature. Whoever can write this table can break the chain, never extend it: every
    entry is checked against signatures the writer cannot make.
    """

    position: int = Field(primary_key=True)
    kind: str = Field(max_length=20)
    body: str
    proposer: str = Field(max_length=32)
    previous: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    signatures: str
    recorded_at: datetime = Field(sa_column=Timestamp())


class DirectoryChange(SQLModel, table=True):
    """A directory entry proposed and waiting for the signatures its rule names."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    kind: str = Field(max_length=20)
    body: str
    proposer: str = Field(max_length=32)
    # The directory head it was proposed against: every signature covers it, so a change
    # signed against an older head must be approved again.
    previous: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    signatures: str = "{}"
    status: str = Field(default="pending", index=True, max_length=10)
    proposed_at: datetime = Field(sa_column=Timestamp())
    decided_at: datetime | None = Field(default=None, sa_column=Timestamp(nullable=True))


class SharedLimit(SQLModel, table=True):
    """One rate limit shared by the processes of a PostgreSQL database (intake/storage/limits.py).

    ``tat`` is the limit's arrival time in seconds of the database clock; ``name`` names the
    limit (a route class, the sign-in failure count), never a person or an address. UNLOGGED on
    PostgreSQL; unused on SQLite, where one process keeps its limits in memory.
    """

    name: str = Field(primary_key=True, max_length=64)
    tat: float


class SpentFormValue(SQLModel, table=True):
    """A reporter form's one-time value, once a report was filed with it
    (intake/casework/once.py): a second submission of the same form files nothing.

    Only a keyed hash of the value (HMAC under the token pepper) and the last day it is kept
    (the day after it was spent); deleted by the retention run after that. Nothing links it to
    the case it filed: no case id, no reference, and the day is the office's day only.
    """

    digest: bytes = Field(sa_column=Column(LargeBinary, primary_key=True))
    keep_until: date = Field(index=True)


class QuestionnaireVersion(SQLModel, table=True):
    """One version of the questions asked for a category (``scope`` is its id), or of those
    asked for every category (``scope`` is ``*``): intake/casework/questionnaires.py. Versions
    are never changed or deleted, so answers always show with the questions as they were asked.
    The questions are the administrators' words, not a reporter's: plaintext on purpose."""

    __table_args__ = (UniqueConstraint("scope", "number"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    scope: str = Field(max_length=50)
    number: int
    questions: str  # JSON: a list of questions (intake/casework/questions.py)
    made_on: date


class CaseAnswers(SQLModel, table=True):
    """A report's answers to its questionnaire, encrypted with the case's first key (bound to
    the case and the field "answers"), and the questionnaire versions they were given on."""

    case_id: str = Field(
        sa_column=Column(String(32), ForeignKey("case.id"), primary_key=True)
    )
    versions: str  # JSON: the ids of the questionnaire versions answered
    answers: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class AnswerCount(SQLModel, table=True):
    """How many reports of a year gave each choice of a statistical question: a count, kept
    apart from the cases (nothing links a count to a case), for the annual statistics."""

    year: int = Field(primary_key=True)
    question: str = Field(primary_key=True, max_length=100)  # "scope:question id"
    choice: str = Field(primary_key=True, max_length=50)
    count: int = 0
class CaseIdentity(SQLModel, table=True):
    """A confidential reporter's identity, sealed so that two people are needed to open it
    (intake/casework/identity.py, crypto/identity.py).

    ``sealed`` is the identity under a key made of two halves; ``officers_half`` is one half
    encrypted with the case data key (epoch ``epoch``), so only the case's holders have it; the
    other half is sealed to each identity custodian (:class:`IdentityHalf`). That a report is
    confidential is plaintext on purpose, like its category: the statistics count it. Once the
    reporter asks that it not be used, both halves and the blob are deleted (``withdrawn_on``).
    """

    case_id: str = Field(foreign_key="case.id", primary_key=True, max_length=32)
    sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    officers_half: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    epoch: int = 1
    # Reporter-originated: kept to the day.
    given_on: date
    withdrawn_on: date | None = None


class IdentityHalf(SQLModel, table=True):
    """The custodians' half of a case's identity key, sealed to one identity custodian."""

    __table_args__ = (UniqueConstraint("case_id", "custodian_id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    case_id: str = Field(foreign_key="case.id", index=True, max_length=32)
    custodian_id: str = Field(foreign_key="staff.id", index=True, max_length=32)
    sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class IdentityRequest(SQLModel, table=True):
    """An officer's request to open a confidential reporter's identity, and its decision.

    The reason is encrypted with the case data key for the case's holders, and sealed to each
    custodian asked (:class:`IdentityReason`). ``released`` is the custodians' half sealed to the
    requester by the custodian who approved; ``decided_on`` is the day the reporter is shown.
    """

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    case_id: str = Field(foreign_key="case.id", index=True, max_length=32)
    requester_id: str = Field(foreign_key="staff.id", index=True, max_length=32)
    requester_role: str = Field(max_length=20)
    requested_at: datetime = Field(sa_column=Timestamp())
    reason: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    reason_epoch: int = 1
    status: str = Field(default="pending", index=True, max_length=10)  # pending|approved|refused
    decided_by: str | None = Field(default=None, foreign_key="staff.id", max_length=32)
    decided_at: datetime | None = Field(default=None, sa_column=Timestamp(nullable=True))
    decided_on: date | None = None
    released: bytes | None = Field(default=None, sa_column=Column(LargeBinary))


class IdentityReason(SQLModel, table=True):
    """A request's reason sealed to one identity custodian, who reads nothing else of the case."""

    request_id: str = Field(foreign_key="identityrequest.id", primary_key=True, max_length=32)
    custodian_id: str = Field(foreign_key="staff.id", primary_key=True, max_length=32)
    sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
