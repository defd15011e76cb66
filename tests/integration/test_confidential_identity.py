"""Confidential reporting: a reporter's identity takes an officer and an identity custodian
together to open.

Attacks and behaviours: the identity is unreadable in the database; the case's officers with
their own private keys cannot open it, nor can a custodian with theirs; it opens to the officer
who asked once a custodian approves, to nobody else; the request and the decision are audited;
the reporter's status page says it was disclosed (role and day); the reporter can give it later
and ask that it not be used; a custodian sees no case content.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sqlalchemy import MetaData, select, text

import crypto
from intake.accounts import keyring, membership
from intake.casework import access, identity
from intake.storage import db
from intake.storage.models import AuditEvent, Case, CaseIdentity, CaseKey, IdentityHalf
from tests.support.custodians import add_custodians
from tests.support.instance import Instance, approve_pending_as_root, set_labels
from tests.support.reports import questions_page
from tests.support.staffing import StaffClient, sign_in

NAME = "Ada Quillfeather"
CONTACT = "ada.q@personal.example"
REPORT = "The deputy signed a 48,000 dollar contract with his cousin's firm, Pellworth Ltd."
REASON = "We need to interview the reporter about the contract signatures."
OFFICER, OTHER_OFFICER = "officer1@example.org", "officer2@example.org"
CUSTODIAN = "custodian1@example.org"


async def _file(client: httpx.AsyncClient, **extra: Any) -> str:
    answer = await client.post(
        "/api/v1/reports", json={"category": "financial", "body": REPORT, **extra}
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["token"])


async def _case(made: Instance) -> Case:
    async with made.runtime.sessions() as session:
        return (await session.exec(select(Case))).scalars().one()  # type: ignore[call-overload]


async def _every_stored_value(made: Instance) -> bytes:
    """Every value of every row of every table, as bytes."""
    found = bytearray()
    async with made.runtime.engine.connect() as connection:
        metadata = MetaData()
        await connection.run_sync(metadata.reflect)
        for table in metadata.sorted_tables:
            for row in (await connection.execute(select(table))).all():
                for value in row:
                    found += value if isinstance(value, bytes) else str(value).encode()
    return bytes(found)


async def _actions(made: Instance, ref: str) -> list[str]:
    async with made.runtime.sessions() as session:
        rows = await session.exec(
            select(AuditEvent.action).where(AuditEvent.case_ref == ref).order_by(AuditEvent.seq)  # type: ignore[call-overload]
        )
        return list(rows.scalars().all())


async def _disclosed(client: httpx.AsyncClient, made: Instance) -> tuple[StaffClient, str, str]:
    """A confidential report; officer1 asks and custodian1 approves. (officer, ref, token)"""
    token = await _file(client, identity={"name": NAME, "contact": CONTACT})
    officer = await sign_in(made, client, OFFICER)
    ref = (await officer.get("/api/v1/cases")).json()["cases"][0]["ref"]
    asked = await officer.post(f"/api/v1/cases/{ref}/identity/requests", {"reason": REASON})
    assert asked.status_code == 201, asked.text
    custodian = await sign_in(made, client, CUSTODIAN)
    waiting = (await custodian.get("/api/v1/identity/requests")).json()["requests"]
    assert len(waiting) == 1
    approved = await custodian.post(f"/api/v1/identity/requests/{waiting[0]['id']}/approve")
    assert approved.status_code == 200, approved.text
    return officer, ref, token


async def test_identity_opens_only_to_the_officer_who_asked_after_a_custodian_approves(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    await add_custodians(seeded)
    token = await _file(client, identity={"name": NAME, "contact": CONTACT})
    case = await _case(seeded)

    # Unreadable at rest.
    stored = await _every_stored_value(seeded)
    assert NAME.encode() not in stored and CONTACT.encode() not in stored
    assert b"Quillfeather" not in stored

    # The case's officers alone, with their own keys: the case key opens, the identity does not.
    async with seeded.runtime.sessions() as session:
        held = await session.get(CaseIdentity, case.id)
        halves = (await session.exec(select(IdentityHalf))).scalars().all()  # type: ignore[call-overload]
        keys = await access.open_with_private_key(
            session, case, seeded.staff_private[OFFICER], staff_id=(await _id(session, OFFICER))
        )
    assert held is not None and held.sealed is not None and held.officers_half is not None
    assert {half.custodian_id for half in halves} == {
        await _staff_id(seeded, "custodian1@example.org"),
        await _staff_id(seeded, "custodian2@example.org"),
    }
    officers_half = crypto.decrypt_field(
        keys.of(held.epoch), held.officers_half, case_id=case.id, field=identity.OFFICERS_HALF_FIELD
    )
    for half in halves:
        with pytest.raises(crypto.DecryptionError):
            crypto.unseal(
                half.sealed,
                seeded.staff_private[OFFICER],
                case_id=case.id,
                purpose=identity.CUSTODIANS_HALF_PURPOSE,
            )
    # A single custodian alone, with their own key: their half opens, the case key does not.
    custodian_id = await _staff_id(seeded, CUSTODIAN)
    mine = next(h for h in halves if h.custodian_id == custodian_id)
    custodians_half = crypto.unseal(
        mine.sealed,
        seeded.staff_private[CUSTODIAN],
        case_id=case.id,
        purpose=identity.CUSTODIANS_HALF_PURPOSE,
    )
    async with seeded.runtime.sessions() as session:
        with pytest.raises(access.NoKeyToCase):
            await access.open_with_private_key(
                session,
                case,
                seeded.staff_private[CUSTODIAN],
                staff_id=await _id(session, CUSTODIAN),
            )
    for guess in (bytes(32), custodians_half):
        with pytest.raises(crypto.DecryptionError):
            crypto.open_identity(
                held.sealed, officers_half=guess, custodians_half=custodians_half, case_id=case.id
            )
    # Both halves together do open it: the seal is what the two people hold between them.
    assert (
        NAME
        in crypto.open_identity(
            held.sealed,
            officers_half=officers_half,
            custodians_half=custodians_half,
            case_id=case.id,
        ).decode()
    )

    # Through the service: before approval the officer's case shows no identity.
    officer = await sign_in(seeded, client, OFFICER)
    ref = case.ref
    assert (await officer.get(f"/api/v1/cases/{ref}/identity")).json()["identity"] is None
    page = await officer.get(f"/staff/cases/{ref}")
    assert page.status_code == 200 and NAME not in page.text
    assert "The reporter gave their identity under seal" in page.text

    # The officer asks, with a reason, from the case page (a plain form).
    asked = await officer.http.post(
        f"/staff/cases/{ref}/identity",
        data={"csrf": officer.csrf, "reason": REASON},
        headers={"Cookie": officer.headers["Cookie"]},
    )
    assert asked.status_code == 303, asked.text

    # The custodian sees the reason, the reference and the role, and nothing of the case.
    custodian = await sign_in(seeded, client, CUSTODIAN)
    listed = await custodian.get("/staff/identity")
    assert listed.status_code == 200
    assert REASON in listed.text and ref in listed.text and "Intake officer" in listed.text
    assert REPORT not in listed.text and "Pellworth" not in listed.text and NAME not in listed.text
    for path in (f"/api/v1/cases/{ref}", f"/staff/cases/{ref}", f"/api/v1/cases/{ref}/identity"):
        refused = await custodian.get(path)
        assert refused.status_code in (403, 404) and "Pellworth" not in refused.text
    request_id = re.search(r'name="request" value="([0-9a-f]{32})"', listed.text)
    assert request_id is not None
    decided = await custodian.http.post(
        "/staff/identity",
        data={"csrf": custodian.csrf, "request": request_id.group(1), "decision": "approve"},
        headers={"Cookie": custodian.headers["Cookie"]},
    )
    assert decided.status_code == 303
    assert NAME not in (await custodian.get("/staff/identity")).text

    # It opens to the officer who asked, and to no other holder of the case.
    shown = (await officer.get(f"/api/v1/cases/{ref}/identity")).json()
    assert shown["identity"] == {"name": NAME, "contact": CONTACT}
    page = await officer.get(f"/staff/cases/{ref}")
    assert NAME in page.text and CONTACT in page.text
    other = await sign_in(seeded, client, OTHER_OFFICER)
    assert (await other.get(f"/api/v1/cases/{ref}/identity")).json()["identity"] is None
    assert NAME not in (await other.get(f"/staff/cases/{ref}")).text

    # Both steps are in the audit log, and in the case's history on the case page.
    actions = await _actions(seeded, ref)
    assert actions.count("identity.requested") == 1 and actions.count("identity.approved") == 1
    history = (await officer.get(f"/staff/cases/{ref}")).text
    assert "Asked to open the reporter&#39;s identity" in history
    assert "Approved opening the reporter&#39;s identity" in history

    # The reporter's status page says it was disclosed, to which role and on which day.
    status = await client.post("/status", data={"token": token})
    today = seeded.runtime.today()
    assert "Your name was opened on" in status.text and "Intake officer" in status.text
    assert today.strftime("%Y") in status.text
    answer = (await client.post("/api/v1/reports/status", json={"token": token})).json()
    assert answer["identity"]["disclosures"] == [{"role": "officer", "on": today.isoformat()}]


async def _id(session: Any, email: str) -> str:
    person = await keyring.staff_by_email(session, email)
    assert person is not None
    return person.id


async def _staff_id(made: Instance, email: str) -> str:
    async with made.runtime.sessions() as session:
        return await _id(session, email)


async def test_a_refusal_is_audited_and_opens_nothing(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    await add_custodians(seeded)
    token = await _file(client, identity={"name": NAME})
    officer = await sign_in(seeded, client, OFFICER)
    ref = (await officer.get("/api/v1/cases")).json()["cases"][0]["ref"]
    await officer.post(f"/api/v1/cases/{ref}/identity/requests", {"reason": REASON})
    second = await officer.post(f"/api/v1/cases/{ref}/identity/requests", {"reason": REASON})
    assert second.status_code == 422  # one waiting request at a time
    custodian = await sign_in(seeded, client, CUSTODIAN)
    waiting = (await custodian.get("/api/v1/identity/requests")).json()["requests"]
    refused = await custodian.post(f"/api/v1/identity/requests/{waiting[0]['id']}/refuse")
    assert refused.status_code == 200
    again = await custodian.post(f"/api/v1/identity/requests/{waiting[0]['id']}/approve")
    assert again.status_code == 422  # decided already
    assert (await officer.get(f"/api/v1/cases/{ref}/identity")).json()["identity"] is None
    assert "identity.refused" in await _actions(seeded, ref)
    status = await client.post("/status", data={"token": token})
    assert "Your name has not been opened to anyone." in status.text
    # Officers cannot decide, custodians cannot ask.
    assert (await officer.get("/api/v1/identity/requests")).status_code == 403
    assert (
        await custodian.post(f"/api/v1/cases/{ref}/identity/requests", {"reason": REASON})
    ).status_code == 403


async def test_giving_the_identity_later_and_asking_it_not_be_used(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    await add_custodians(seeded)
    token = await _file(client)
    status = await client.post("/status", data={"token": token})
    assert "Your report is anonymous" in status.text
    given = await client.post(
        "/status/identity",
        data={"token": token, "identity_name": NAME, "identity_contact": CONTACT},
    )
    assert given.status_code == 200 and "Your name was sealed for the office." in given.text
    assert NAME.encode() not in await _every_stored_value(seeded)
    twice = await client.post("/status/identity", data={"token": token, "identity_name": NAME})
    assert twice.status_code == 422

    officer = await sign_in(seeded, client, OFFICER)
    ref = (await officer.get("/api/v1/cases")).json()["cases"][0]["ref"]
    await officer.post(f"/api/v1/cases/{ref}/identity/requests", {"reason": REASON})
    custodian = await sign_in(seeded, client, CUSTODIAN)
    waiting = (await custodian.get("/api/v1/identity/requests")).json()["requests"]
    await custodian.post(f"/api/v1/identity/requests/{waiting[0]['id']}/approve")
    assert (await officer.get(f"/api/v1/cases/{ref}/identity")).json()["identity"]["name"] == NAME

    # Unconfirmed, nothing happens; confirmed, the identity is destroyed for everyone.
    unconfirmed = await client.post("/status/identity/withdraw", data={"token": token})
    assert unconfirmed.status_code == 422
    withdrawn = await client.post(
        "/status/identity/withdraw", data={"token": token, "confirm": "yes"}
    )
    assert withdrawn.status_code == 200
    assert "Your name was destroyed" in withdrawn.text
    assert (await officer.get(f"/api/v1/cases/{ref}/identity")).json()["identity"] is None
    assert "asked on" in (await officer.get(f"/staff/cases/{ref}")).text
    async with seeded.runtime.sessions() as session:
        row = await session.get(CaseIdentity, (await _case(seeded)).id)
        halves = (await session.exec(select(IdentityHalf))).scalars().all()  # type: ignore[call-overload]
    assert row is not None and row.sealed is None and row.officers_half is None
    assert row.withdrawn_on == seeded.runtime.today() and halves == []
    again = await officer.post(f"/api/v1/cases/{ref}/identity/requests", {"reason": REASON})
    assert again.status_code == 422


async def test_without_a_custodian_a_confidential_report_is_refused_and_nothing_stored(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    form = await client.get("/report")
    assert 'name="identity_name"' not in form.text  # not offered
    answer = await client.post(
        "/api/v1/reports",
        json={"category": "financial", "body": REPORT, "identity": {"name": NAME}},
    )
    assert answer.status_code == 422
    assert "no identity custodian" in answer.text
    async with seeded.runtime.engine.connect() as connection:
        assert (await connection.execute(text('SELECT count(*) FROM "case"'))).scalar() == 0
        assert (await connection.execute(text("SELECT count(*) FROM caseidentity"))).scalar() == 0


async def test_the_form_offers_it_and_bad_input_is_a_clear_error(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    await add_custodians(seeded)
    form = await questions_page(client)  # the page with the text, after the category
    assert 'name="identity_name"' in form.text and "leave empty to stay anonymous" in form.text
    assert form.text.count('id="confidential"') == 1  # once, on the page with the text
    base = {"category": "financial", "body": REPORT}
    missing_name = await client.post("/report", data={**base, "identity_contact": CONTACT})
    assert missing_name.status_code == 422
    assert "Please give your name too" in missing_name.text
    assert CONTACT in missing_name.text  # what was typed is kept
    too_long = await client.post("/report", data={**base, "identity_name": "x" * 201})
    assert too_long.status_code == 422
    async with seeded.runtime.engine.connect() as connection:
        assert (await connection.execute(text('SELECT count(*) FROM "case"'))).scalar() == 0
    filed = await client.post("/report", data={**base, "identity_name": NAME})
    assert filed.status_code == 201
    async with seeded.runtime.engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM caseidentity"))).scalar() == 1


async def test_the_office_may_tell_the_reporter_itself(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    await add_custodians(seeded)
    _officer, _ref, token = await _disclosed(client, seeded)
    object.__setattr__(seeded.runtime.settings, "identity_disclosure_told_by_office", True)
    status = await client.post("/status", data={"token": token})
    assert "The office will tell you itself if your name is opened." in status.text
    assert "Your name was opened on" not in status.text
    answer = (await client.post("/api/v1/reports/status", json={"token": token})).json()
    assert answer["identity"]["disclosures"] == [] and answer["identity"]["office_tells"]


async def test_custodians_are_never_given_cases(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    """Nobody may hold both a copy of the case key and a custodian's half: a custodian is never
    given a case, nor is a custodian who became an officer given a case they hold a half of."""
    await add_custodians(seeded)
    await _file(client, identity={"name": NAME})
    officer = await sign_in(seeded, client, OFFICER)
    ref = (await officer.get("/api/v1/cases")).json()["cases"][0]["ref"]
    custodian_id = await _staff_id(seeded, CUSTODIAN)
    granted = await officer.post(f"/api/v1/cases/{ref}/grants", {"staff_id": custodian_id})
    assert granted.status_code == 403
    people = (await officer.get("/api/v1/staff")).json()
    assert custodian_id not in str(people)

    async with db.transaction(seeded.runtime.sessions) as session:
        person = await keyring.staff_by_email(session, CUSTODIAN)
        assert person is not None
        await membership.propose_update(
            session,
            seeded.runtime,
            person,
            role="officer",
            group="solicitor",
            label=None,
            proposer="cli",
        )
    assert await approve_pending_as_root(seeded) == 1
    granted = await officer.post(f"/api/v1/cases/{ref}/grants", {"staff_id": custodian_id})
    assert granted.status_code == 403
    assert "identity custodian for this case" in granted.text
    async with seeded.runtime.sessions() as session:
        copies = await session.exec(
            select(CaseKey.id).where(CaseKey.staff_id == custodian_id)  # type: ignore[call-overload]
        )
        assert copies.all() == []


async def test_an_excluded_custodian_leaves_no_trace_and_is_never_asked(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    """Every custodian gets a row whatever the routing; the one the reporter excluded holds a
    random value, which opens nothing, and is never asked to decide."""
    await add_custodians(seeded)
    await set_labels(seeded, {"custodian2@example.org": "Custodian Two"})
    excluded_id = await _staff_id(seeded, "custodian2@example.org")
    await _file(client, identity={"name": NAME}, exclude=[excluded_id])
    case = await _case(seeded)
    async with seeded.runtime.sessions() as session:
        halves = (await session.exec(select(IdentityHalf))).scalars().all()  # type: ignore[call-overload]
        held = await session.get(CaseIdentity, case.id)
    assert len(halves) == 2 and held is not None and held.sealed is not None
    opened = {
        half.custodian_id: crypto.unseal(
            half.sealed,
            seeded.staff_private[
                CUSTODIAN if half.custodian_id != excluded_id else "custodian2@example.org"
            ],
            case_id=case.id,
            purpose=identity.CUSTODIANS_HALF_PURPOSE,
        )
        for half in halves
    }
    assert len(set(opened.values())) == 2  # the excluded custodian's is not the half

    officer = await sign_in(seeded, client, OFFICER)
    asked = await officer.post(f"/api/v1/cases/{case.ref}/identity/requests", {"reason": REASON})
    assert asked.status_code == 201
    excluded = await sign_in(seeded, client, "custodian2@example.org")
    assert (await excluded.get("/api/v1/identity/requests")).json()["requests"] == []
    custodian = await sign_in(seeded, client, CUSTODIAN)
    waiting = (await custodian.get("/api/v1/identity/requests")).json()["requests"]
    refused = await excluded.post(f"/api/v1/identity/requests/{waiting[0]['id']}/approve")
    assert refused.status_code == 422
    assert (
        await custodian.post(f"/api/v1/identity/requests/{waiting[0]['id']}/approve")
    ).is_success
    shown = (await officer.get(f"/api/v1/cases/{case.ref}/identity")).json()["identity"]
    assert shown["name"] == NAME


async def test_retention_shreds_the_identity_and_the_statistics_still_count_it(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    from intake.casework import retention

    await add_custodians(seeded)
    await _disclosed(client, seeded)
    case = await _case(seeded)
    async with db.transaction(seeded.runtime.sessions) as session:
        row = await session.get(Case, case.id)
        assert row is not None
        await retention.shred_case(
            session, seeded.runtime, row, today=seeded.runtime.today(), actor="test"
        )
    async with seeded.runtime.sessions() as session:
        held = await session.get(CaseIdentity, case.id)
        halves = (await session.exec(select(IdentityHalf))).scalars().all()  # type: ignore[call-overload]
    assert held is not None and held.sealed is None and held.officers_half is None
    assert halves == []
    assert (await _figures(seeded))["by_reporting"]["confidential"] == "fewer than 5"


async def _figures(made: Instance) -> dict[str, Any]:
    from intake.operations import stats

    today = made.runtime.today()
    async with made.runtime.sessions() as session:
        return await stats.annual(
            session, year=today.year, as_of=today, rules=made.runtime.rules, threshold=5
        )


async def test_statistics_count_anonymous_and_confidential_reports_small_cells_hidden(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    await add_custodians(seeded)
    for number in range(6):
        await _file(client, identity={"name": f"{NAME} {number}"})
    for _ in range(3):
        await _file(client)
    figures = await _figures(seeded)
    # 3 anonymous is a small cell, and 6 confidential would follow from the total of 9.
    assert figures["by_reporting"] == {"anonymous": "fewer than 5", "confidential": "withheld"}
    for _ in range(3):
        await _file(client)
    figures = await _figures(seeded)
    assert figures["received"] == 12
    assert figures["by_reporting"] == {"anonymous": 6, "confidential": 6}
