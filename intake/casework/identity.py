"""Confidential reporting: a reporter's identity, sealed so that it takes two people to open.

A reporter may give their name and a way to reach them, with the report or later from the status
page. The identity is encrypted under a key made of two random halves (crypto/identity.py): the
officers' half is encrypted with the case data key, so only the case's holders have it; the
custodians' half is sealed to each identity custodian the verified directory names. Neither the
case's officers nor a custodian can open it alone: an officer asks (with a reason), a custodian
approves and seals their half to that officer (intake/casework/identity_requests.py).

A custodian who holds the case, whom the reporter excluded, or who belongs to the office a
report is about receives a random value in place of the half (so the rows do not tell whom the
reporter excluded) and is never asked to decide: the identity is filed all the same, with the
other custodians. With no custodian left, a report that gives an identity is refused and
nothing is stored.

Asking that the identity not be used destroys it: the blob, both halves and every half already
released to an officer are deleted; only the day of the request remains.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import delete, insert, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

import crypto
from intake.accounts import trusted
from intake.accounts.directory_rules import DirectoryState, Member
from intake.casework import records
from intake.casework.reporter import CaseStatus, open_for_writing
from intake.casework.vocabulary import Role
from intake.config import Settings
from intake.errors import InvalidInput
from intake.i18n import N_
from intake.runtime import Runtime
from intake.storage import db
from intake.storage.models import (
    CaseIdentity,
    CaseKey,
    IdentityHalf,
    IdentityRequest,
    new_id,
)

CUSTODIANS_HALF_PURPOSE = "identity-half"
OFFICERS_HALF_FIELD = "identity-officers-half"
MAX_NAME_CHARS = 200
MAX_CONTACT_CHARS = 500

NO_CUSTODIANS = N_(
    "Confidential reporting is not available right now: no identity custodian is set up to "
    "hold your identity. Nothing was saved. Leave your name out to report anonymously, or try "
    "again later."
)


@dataclass(frozen=True, repr=False)
class GivenIdentity:
    """What a reporter gave: a name, and a way to reach them (optional)."""

    name: str
    contact: str = ""

    def as_bytes(self) -> bytes:
        return json.dumps({"name": self.name, "contact": self.contact}).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> GivenIdentity:
        value = json.loads(data.decode("utf-8"))
        return cls(name=str(value["name"]), contact=str(value.get("contact", "")))

    def __repr__(self) -> str:
        return "GivenIdentity(<redacted>)"


def checked(name: str, contact: str) -> GivenIdentity | None:
    """The identity a form or body gave, checked; None when both are blank (anonymous)."""
    name, contact = name.strip(), contact.strip()
    if not name and not contact:
        return None
    if not name:
        raise InvalidInput(
            N_("Please give your name too, or leave both boxes empty to stay anonymous."),
            field="identity_name",
        )
    for text, limit, field_name in (
        (name, MAX_NAME_CHARS, "identity_name"),
        (contact, MAX_CONTACT_CHARS, "identity_contact"),
    ):
        if len(text) > limit:
            raise InvalidInput(
                N_("This is too long: %(count)s characters, the limit is %(limit)s."),
                field=field_name,
                count=len(text),
                limit=limit,
            )
        if "\x00" in text or not records.encodable(text):
            raise InvalidInput(
                N_("The text contains a character that cannot be saved."), field=field_name
            )
    return GivenIdentity(name=name, contact=contact)


def custodians(
    state: DirectoryState | None,
    settings: Settings,
    *,
    holders: Collection[str],
    excluded: Collection[str],
    involves_office: bool,
) -> list[Member]:
    """The identity custodians a case's half is sealed to: active custodians of the verified
    directory, except a holder of the case, a person the reporter excluded, and, where the
    reporter said the report involves the office, the office's own members."""
    if state is None:
        return []
    return sorted(
        (
            member
            for member in state.members.values()
            if member.active
            and member.role == Role.CUSTODIAN
            and member.staff_id not in holders
            and member.staff_id not in excluded
            and not (involves_office and member.group == settings.default_group)
        ),
        key=lambda member: member.staff_id,
    )


@dataclass(frozen=True)
class PreparedIdentity:
    """An identity sealed for a case, before its custodians are known (no database needed)."""

    sealed: bytes
    officers_half: bytes  # encrypted with the case's key of epoch ``epoch``
    epoch: int
    given_on: date
    custodians_half: bytes = field(repr=False)


def prepare(
    given: GivenIdentity, keys: crypto.KeyEpochs, *, case_id: str, today: date
) -> PreparedIdentity:
    made = crypto.seal_identity(given.as_bytes(), case_id=case_id)
    return PreparedIdentity(
        sealed=made.sealed,
        officers_half=crypto.encrypt_field(
            keys.latest, made.officers_half, case_id=case_id, field=OFFICERS_HALF_FIELD
        ),
        epoch=keys.current,
        given_on=today,
        custodians_half=made.custodians_half,
    )


@dataclass(frozen=True)
class IdentityRows:
    """The rows a sealed identity adds: the case's identity and one half per custodian."""

    identity: dict[str, Any]
    halves: list[dict[str, Any]]


def every_custodian(state: DirectoryState | None) -> list[Member]:
    """Every active identity custodian of the verified directory."""
    if state is None:
        return []
    return sorted(
        (m for m in state.members.values() if m.active and m.role == Role.CUSTODIAN),
        key=lambda member: member.staff_id,
    )


def rows_for(
    prepared: PreparedIdentity,
    case_id: str,
    state: DirectoryState | None,
    settings: Settings,
    *,
    holders: Collection[str],
    excluded: Collection[str],
    involves_office: bool,
) -> IdentityRows:
    """The rows of ``prepared``: one half for every active custodian, so the rows do not tell
    whom the reporter excluded; a custodian the rules leave out (:func:`custodians`) gets a
    random value of the same length instead, and is never asked. InvalidInput (nothing stored)
    when no custodian may hold it."""
    eligible = {
        member.staff_id
        for member in custodians(
            state, settings, holders=holders, excluded=excluded, involves_office=involves_office
        )
    }
    if not eligible:
        raise InvalidInput(NO_CUSTODIANS, field="identity_name")
    halves = [
        {
            "id": new_id(),
            "case_id": case_id,
            "custodian_id": member.staff_id,
            "sealed": crypto.seal(
                prepared.custodians_half
                if member.staff_id in eligible
                else secrets.token_bytes(crypto.IDENTITY_HALF_BYTES),
                member.encryption_public,
                case_id=case_id,
                purpose=CUSTODIANS_HALF_PURPOSE,
            ),
        }
        for member in every_custodian(state)
    ]
    return IdentityRows(
        identity={
            "case_id": case_id,
            "sealed": prepared.sealed,
            "officers_half": prepared.officers_half,
            "epoch": prepared.epoch,
            "given_on": prepared.given_on,
            "withdrawn_on": None,
        },
        halves=halves,
    )


_IDENTITY_TABLE = CaseIdentity.__table__  # type: ignore[attr-defined]
_HALF_TABLE = IdentityHalf.__table__  # type: ignore[attr-defined]


async def insert_rows(connection: AsyncConnection, rows: Iterable[IdentityRows | None]) -> None:
    """Write the identities of a batch of reports (Core inserts, in the filing transaction)."""
    given = [row for row in rows if row is not None]
    if not given:
        return
    await connection.execute(insert(_IDENTITY_TABLE), [row.identity for row in given])
    await connection.execute(insert(_HALF_TABLE), [half for row in given for half in row.halves])


def available_in(state: DirectoryState | None, settings: Settings) -> bool:
    """Whether the verified directory ``state`` names at least one active identity custodian."""
    return any(custodians(state, settings, holders=(), excluded=(), involves_office=False))


async def available(session: AsyncSession, runtime: Runtime) -> bool:
    """:func:`available_in` the verified directory as it is now."""
    return available_in(await trusted.directory_state(session, runtime), runtime.settings)


# --- the reporter's side, by token -----------------------------------------------------------


async def give_later(runtime: Runtime, token_text: str, given: GivenIdentity) -> None:
    """A reporter gives their identity from the status page (replacing one they withdrew)."""
    async with db.transaction(runtime.sessions) as session:
        case, keys = await open_for_writing(session, runtime, token_text)
        existing = await session.get(CaseIdentity, case.id)
        if existing is not None and existing.withdrawn_on is None:
            raise InvalidInput(
                N_("You have already given your identity for this report."),
                field="identity_name",
            )
        state = await trusted.directory_state(session, runtime)
        holders = set(
            (await session.exec(select(CaseKey.staff_id).where(CaseKey.case_id == case.id))).all()
        )
        rows = rows_for(
            prepare(given, keys, case_id=case.id, today=runtime.today()),
            case.id,
            state,
            runtime.settings,
            holders={holder for holder in holders if holder},
            excluded=records.decrypt_exclusions(keys, case),
            involves_office=case.involves_office,
        )
        if existing is not None:
            await session.delete(existing)
            await session.flush()
        connection = await session.connection()
        await insert_rows(connection, [rows])


async def withdraw(runtime: Runtime, token_text: str) -> None:
    """A reporter asks that their identity not be used: it is destroyed, with every half."""
    async with db.transaction(runtime.sessions) as session:
        case, _keys = await open_for_writing(session, runtime, token_text)
        existing = await session.get(CaseIdentity, case.id)
        if existing is None or existing.withdrawn_on is not None:
            raise InvalidInput(N_("There is no identity of yours on this report to withdraw."))
        await shred(session, case.id)
        existing.withdrawn_on = runtime.today()
        session.add(existing)


async def shred(session: AsyncSession, case_id: str) -> None:
    """Destroy a case's identity (the reporter withdrew it, or retention purged the case): the
    blob, the officers' half, every custodian's half and every half released to an officer.
    The row stays, with the day it was given, for the statistics."""
    await shred_many(session, [case_id])


async def shred_many(session: AsyncSession, case_ids: Sequence[str]) -> None:
    """:func:`shred` for several cases in four statements (a retention batch)."""
    ids = list(case_ids)
    await session.exec(  # type: ignore[call-overload]
        update(CaseIdentity)
        .where(col(CaseIdentity.case_id).in_(ids))
        .values(sealed=None, officers_half=None)
    )
    await session.exec(  # type: ignore[call-overload]
        delete(IdentityHalf).where(col(IdentityHalf.case_id).in_(ids))
    )
    await session.exec(  # type: ignore[call-overload]
        update(IdentityRequest).where(col(IdentityRequest.case_id).in_(ids)).values(released=None)
    )
    await session.exec(  # type: ignore[call-overload]
        update(IdentityRequest)
        .where(col(IdentityRequest.case_id).in_(ids))
        .where(col(IdentityRequest.status) == "pending")
        .values(status="withdrawn")
    )


@dataclass(frozen=True)
class Disclosure:
    """An identity opened to an officer: their role and the day (never who, never the hour)."""

    role: str
    on: date


@dataclass(frozen=True)
class ReporterView:
    """What the reporter's status page says of their identity."""

    given_on: date | None = None
    withdrawn_on: date | None = None
    office_tells: bool = False
    disclosures: list[Disclosure] = field(default_factory=list)

    @property
    def held(self) -> bool:
        return self.given_on is not None and self.withdrawn_on is None


async def reporter_view(runtime: Runtime, status: CaseStatus) -> ReporterView:
    """The identity's state for the reporter, for the case their token opened (``status``)."""
    office_tells = runtime.settings.identity_disclosure_told_by_office
    if not status.confidential:
        return ReporterView(office_tells=office_tells)
    async with runtime.sessions() as session:
        found = await session.get(CaseIdentity, status.case_id)
        if found is None:
            return ReporterView(office_tells=office_tells)
        decided = (
            await session.exec(
                select(IdentityRequest.requester_role, IdentityRequest.decided_on)
                .where(IdentityRequest.case_id == found.case_id)
                .where(IdentityRequest.status == "approved")
                .order_by(col(IdentityRequest.decided_on))
            )
        ).all()
    return ReporterView(
        given_on=found.given_on,
        withdrawn_on=found.withdrawn_on,
        office_tells=office_tells,
        disclosures=[] if office_tells else [Disclosure(role, on) for role, on in decided if on],
    )
