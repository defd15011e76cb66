"""The reporter's JSON API, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio

import httpx
from sqlmodel import select

import crypto
from intake.storage.models import Case, CaseKey, Entry, Staff
from tests.support import reports
from tests.support.instance import Instance, set_labels

REPORT = {"category": "financial", "body": "The contract was signed twice, see invoice 4471."}


async def file_report(client: httpx.AsyncClient, **changes: object) -> str:
    return await reports.file_report(client, REPORT, **changes)


async def test_form_lists_categories_and_limits(client: httpx.AsyncClient) -> None:
    answer = await client.get("/api/v1/form")
    assert answer.status_code == 200
    form = answer.json()
    shown = {item["id"]: item for item in form["categories"]}
    assert shown["financial"]["label"] == "Misuse of public money or contract-signing authority"
    assert form["limits"]["body_chars"] == 20_000


async def test_report_round_trip_with_messages(client: httpx.AsyncClient) -> None:
    token = await file_report(client)
    assert len(token) == 29 and token.count("-") == 4

    sent = await client.post(
        "/api/v1/reports/messages", json={"token": token, "body": "One more detail."}
    )
    assert sent.status_code == 201

    status = await client.post("/api/v1/reports/status", json={"token": token})
    assert status.status_code == 200
    found = status.json()
    assert found["stage"] == "received"
    assert found["due"]["acknowledgement"] is not None
    assert found["messages"] == [
        {"from": "reporter", "body": "One more detail.", "on": found["received_on"]}
    ]


async def test_token_accepted_in_lower_case_with_spaces_or_without_dashes(
    client: httpx.AsyncClient,
) -> None:
    token = await file_report(client)
    for variant in (
        token.lower(),
        token.replace("-", " "),
        token.replace("-", ""),
        f"  {token.lower().replace('-', '')}\n",
    ):
        answer = await client.post("/api/v1/reports/status", json={"token": variant})
        assert answer.status_code == 200, variant


async def test_typo_is_422_and_unknown_token_is_404(client: httpx.AsyncClient) -> None:
    token = await file_report(client)
    first = token[0]
    typo = ("1" if first != "1" else "2") + token[1:]
    answer = await client.post("/api/v1/reports/status", json={"token": typo})
    assert answer.status_code == 422
    assert "mistyped" in answer.json()["error"]

    short = await client.post("/api/v1/reports/status", json={"token": token[:-3]})
    assert short.status_code == 422
    assert "25 characters" in short.json()["error"]

    unknown = await client.post("/api/v1/reports/status", json={"token": crypto.new_token()})
    assert unknown.status_code == 404
    assert "No report matches" in unknown.json()["error"]


async def test_lookup_goes_through_keyed_hash_and_token_is_not_stored(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    token = await file_report(client)
    canonical = crypto.normalise_token(token)
    pepper = seeded.runtime.secrets.token_pepper
    async with seeded.runtime.sessions() as session:
        cases = (await session.exec(select(Case))).all()
    assert len(cases) == 1
    case = cases[0]
    assert case.lookup == crypto.token_lookup_key(pepper, canonical)
    assert canonical not in repr(case.model_dump()) and token not in case.ref
    # The staff reference is independent of the token.
    assert case.ref.startswith("QL-") and canonical[:5] not in case.ref


async def test_report_is_sealed_to_each_officer_of_the_group_and_the_recovery_key(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    await file_report(client, body="Sealing check")
    async with seeded.runtime.sessions() as session:
        case = (await session.exec(select(Case))).one()
        keys = (await session.exec(select(CaseKey).where(CaseKey.case_id == case.id))).all()
        report = (await session.exec(select(Entry).where(Entry.case_id == case.id))).one()
    staff_keys = {key.staff_id for key in keys if key.staff_id}
    assert len(staff_keys) == 3  # the three solicitor officers; not the investigator or admin
    recovery = [key for key in keys if key.recovery_key_id]
    assert len(recovery) == 1

    data_key = crypto.unseal(
        recovery[0].sealed, seeded.recovery_private, case_id=case.id, purpose="case-key"
    )
    body = crypto.decrypt_field(data_key, report.body, case_id=case.id, field=f"report:{report.id}")
    assert b"Sealing check" in body
    for email in ("officer1@example.org", "officer2@example.org", "officer3@example.org"):
        opened = [
            key
            for key in keys
            if key.staff_id and _opens(key, seeded.staff_private[email], case.id)
        ]
        assert len(opened) == 1, email
    for outsider in ("investigator@example.org", "admin@example.org", "alternate@example.org"):
        assert not any(_opens(key, seeded.staff_private[outsider], case.id) for key in keys)


def _opens(key: CaseKey, private: bytes, case_id: str) -> bool:
    try:
        crypto.unseal(key.sealed, private, case_id=case_id, purpose="case-key")
    except crypto.DecryptionError:
        return False
    return True


async def test_report_involving_the_office_goes_to_the_alternate_group_only(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    await file_report(client, involves_office=True)
    async with seeded.runtime.sessions() as session:
        case = (await session.exec(select(Case))).one()
        keys = (await session.exec(select(CaseKey).where(CaseKey.case_id == case.id))).all()
    assert case.group_name == "alternate"
    holders = [key for key in keys if key.staff_id]
    assert len(holders) == 1
    assert _opens(holders[0], seeded.staff_private["alternate@example.org"], case.id)
    for email in ("officer1@example.org", "officer2@example.org", "officer3@example.org"):
        assert not any(_opens(key, seeded.staff_private[email], case.id) for key in keys)


async def test_reports_sent_at_once_are_each_filed_routed_or_refused_on_their_own(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    """Reports arriving together are written in one transaction (intake/storage/batching.py); each
    still gets its own answer, its own routing and its own token."""
    sent = [
        {**REPORT, "body": f"Concern number {index}", "involves_office": index % 3 == 0}
        for index in range(10)
    ]
    sent.insert(4, {**REPORT, "category": "no-such-category"})
    sent.insert(7, {**REPORT, "exclude": ["not-a-person-offered"]})
    answers = await asyncio.gather(*(client.post("/api/v1/reports", json=one) for one in sent))

    assert [answer.status_code for answer in answers].count(201) == 10
    assert answers[4].status_code == 422 and "categor" in answers[4].json()["error"]
    assert answers[7].status_code == 422
    async with seeded.runtime.sessions() as session:
        cases = (await session.exec(select(Case))).all()
    assert len(cases) == 10
    for report, answer in zip(sent, answers, strict=True):
        if answer.status_code != 201:
            continue
        token = answer.json()["token"]
        lookup = crypto.token_lookup_key(
            seeded.runtime.secrets.token_pepper, crypto.normalise_token(token)
        )
        case = next(case for case in cases if case.lookup == lookup)
        assert case.group_name == ("alternate" if report["involves_office"] else "solicitor")
        status = await client.post("/api/v1/reports/status", json={"token": token})
        assert status.status_code == 200
        async with seeded.runtime.sessions() as session:
            entry = (await session.exec(select(Entry).where(Entry.case_id == case.id))).one()
            keys = (await session.exec(select(CaseKey).where(CaseKey.case_id == case.id))).all()
        holder = "alternate@example.org" if report["involves_office"] else "officer1@example.org"
        key = next(k for k in keys if _opens(k, seeded.staff_private[holder], case.id))
        data_key = crypto.unseal(
            key.sealed, seeded.staff_private[holder], case_id=case.id, purpose="case-key"
        )
        body = crypto.decrypt_field(
            data_key, entry.body, case_id=case.id, field=f"report:{entry.id}"
        )
        assert str(report["body"]).encode() in body


async def test_excluding_everyone_who_would_receive_it_is_the_reporters_to_fix(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    """Every receiving officer excluded: a 422 on the exclusions (the reporter's choice), not a
    503 saying the service is not set up; nothing is saved."""
    async with seeded.runtime.sessions() as session:
        receiving = (
            await session.exec(
                select(Staff).where(
                    Staff.group_name == seeded.runtime.settings.default_group,
                    Staff.role == "officer",
                )
            )
        ).all()
    await set_labels(seeded, {person.email: f"Officer {person.name}" for person in receiving})
    offered = (await client.get("/api/v1/form")).json()["routing"]["exclude"]
    assert {person.id for person in receiving} <= {person["id"] for person in offered}
    answer = await client.post(
        "/api/v1/reports", json={**REPORT, "exclude": [person["id"] for person in offered]}
    )
    assert answer.status_code == 422, answer.text
    assert "nobody could read it" in answer.json()["error"]
    async with seeded.runtime.sessions() as session:
        assert (await session.exec(select(Case))).all() == []
