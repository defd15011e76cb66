"""Who may do what to a case: every staff endpoint against every kind of person.

A refusal must say nothing of the case: no report text, note, message, holder
or stage; and a case one holds no key to answers exactly like a case that does
not exist.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

import crypto
from intake.accounts import keyring
from intake.storage.models import Case, CaseKey, Staff
from intake.web.app import create_app
from tests.support.instance import Instance, make_instance, set_labels
from tests.support.postgres import fresh_database, run_sync
from tests.support.staffing import StaffClient, sign_in

SECRET_REPORT = "The deputy approved his cousin's invoice for 48,000 dollars."
SECRET_NOTE = "Internal: the cousin is Mr Pellworth."
SECRET_MESSAGE = "We have opened an inquiry into the invoice."
OFFICER = "officer1@example.org"
EXCLUDED = "officer3@example.org"

MISSING_REF = "QL-00000-00000"


async def _staff_id(made: Instance, email: str) -> str:
    async with made.runtime.sessions() as session:
        person = await keyring.staff_by_email(session, email)
        assert person is not None
        return person.id


async def _prepared_case(client: httpx.AsyncClient, made: Instance) -> tuple[str, StaffClient]:
    """A report that excludes officer3, acknowledged, with a message and a note."""
    await set_labels(made, {EXCLUDED: "Officer Three"})
    form = (await client.get("/api/v1/form")).json()
    choices = {item["label"]: item["id"] for item in form["routing"]["exclude"]}
    assert list(choices) == ["Officer Three"]
    filed = await client.post(
        "/api/v1/reports",
        json={
            "category": "financial",
            "body": SECRET_REPORT,
            "exclude": [choices["Officer Three"]],
        },
    )
    assert filed.status_code == 201
    officer = await sign_in(made, client, OFFICER)
    ref = (await officer.get("/api/v1/cases")).json()["cases"][0]["ref"]
    await officer.post(f"/api/v1/cases/{ref}/stage", {"stage": "acknowledged"})
    await officer.post(f"/api/v1/cases/{ref}/messages", {"body": SECRET_MESSAGE})
    await officer.post(f"/api/v1/cases/{ref}/notes", {"body": SECRET_NOTE})
    return ref, officer


def _calls(ref: str, officer2_id: str) -> list[tuple[str, str, object]]:
    return [
        ("GET", f"/api/v1/cases/{ref}", None),
        ("POST", f"/api/v1/cases/{ref}/stage", {"stage": "assessing"}),
        ("POST", f"/api/v1/cases/{ref}/messages", {"body": "hello"}),
        ("POST", f"/api/v1/cases/{ref}/notes", {"body": "a note"}),
        ("POST", f"/api/v1/cases/{ref}/assign", {"staff_id": officer2_id}),
        ("POST", f"/api/v1/cases/{ref}/grants", {"staff_id": officer2_id}),
        ("DELETE", f"/api/v1/cases/{ref}/grants/{officer2_id}", None),
    ]


async def _call(who: StaffClient | httpx.AsyncClient, method: str, path: str, body: object):
    if isinstance(who, StaffClient):
        if method == "GET":
            return await who.get(path)
        if method == "DELETE":
            return await who.delete(path)
        return await who.post(path, body)
    return await who.request(method, path, json=body)


def _assert_nothing_leaks(answer: httpx.Response, ref: str) -> None:
    assert set(answer.json()) == {"error"}
    for secret in (SECRET_REPORT, SECRET_NOTE, SECRET_MESSAGE, "acknowledged", OFFICER, ref):
        assert secret not in answer.text


# The access matrix: every person against every action, on the prepared case and on a case
# that does not exist. The answers are gathered once per database (the calls of a key holder
# change the case, so they come last, in order); each cell is then checked as its own test.
ACTIONS = ("read", "stage", "message", "note", "assign", "grant", "revoke")
NON_HOLDERS = {
    "anonymous": None,
    "officer without key": "alternate@example.org",
    "excluded person": EXCLUDED,
    "investigator": "investigator@example.org",
    "admin without grant": "admin@example.org",
}
CASES = {"existing case": "prepared", "missing case": MISSING_REF}
# Nobody but holders learns the case exists: the same answer as for a missing case.
EXPECTED = {
    "anonymous": dict.fromkeys(ACTIONS, 401),
    "officer without key": dict.fromkeys(ACTIONS, 404),
    "excluded person": dict.fromkeys(ACTIONS, 404),
    # Investigators read and keep notes on cases granted to them; the rest is refused by
    # role before any case is looked at, so the answer cannot depend on the case.
    "investigator": {**dict.fromkeys(ACTIONS, 403), "read": 404, "note": 404},
    "admin without grant": dict.fromkeys(ACTIONS, 404),
    # The officer holding the key can do everything; officer2 has access already (assign),
    # so granting it again is refused.
    "key holder": {
        **dict.fromkeys(ACTIONS, 200),
        "message": 201,
        "note": 201,
        "grant": 422,
    },
}
NON_HOLDER_CELLS = [
    (person, action, case) for person in NON_HOLDERS for action in ACTIONS for case in CASES
]


@dataclass
class MatrixAnswers:
    """Every answer of the matrix, keyed by (person, action, case), and each queue."""

    ref: str
    cells: dict[tuple[str, str, str], httpx.Response]
    queues: dict[str, object]
    listing_without_session: list[int]


async def _gather_matrix(data_dir: Path, database_url: str | None) -> MatrixAnswers:
    made = await make_instance(data_dir, database_url)
    try:
        app = create_app(made.settings, runtime=made.runtime)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://127.0.0.1"
            ) as client:
                return await _answers(client, made)
    finally:
        await made.runtime.close()


async def _answers(client: httpx.AsyncClient, made: Instance) -> MatrixAnswers:
    ref, officer = await _prepared_case(client, made)
    officer2_id = await _staff_id(made, "officer2@example.org")
    refs = {name: ref if where == "prepared" else where for name, where in CASES.items()}
    people: dict[str, StaffClient | None] = {
        name: None if email is None else await sign_in(made, client, email)
        for name, email in NON_HOLDERS.items()
    }
    anonymous_forged = {"X-CSRF-Token": officer.csrf}
    cells: dict[tuple[str, str, str], httpx.Response] = {}
    queues: dict[str, object] = {}
    for name, person in people.items():
        for case, case_ref in refs.items():
            calls = _calls(case_ref, officer2_id)
            for action, (method, path, body) in zip(ACTIONS, calls, strict=True):
                if person is None:
                    answer = await client.request(method, path, json=body, headers=anonymous_forged)
                else:
                    answer = await _call(person, method, path, body)
                cells[name, action, case] = answer
        if person is not None:
            queues[name] = (await person.get("/api/v1/cases")).json()
    listing = [
        (await client.request(method, path, json={})).status_code
        for method, path in (("GET", "/api/v1/cases"), ("POST", "/api/v1/cases"))
    ]
    for action, (method, path, body) in zip(ACTIONS, _calls(ref, officer2_id), strict=True):
        cells["key holder", action, "existing case"] = await _call(officer, method, path, body)
    return MatrixAnswers(ref=ref, cells=cells, queues=queues, listing_without_session=listing)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def matrix(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> MatrixAnswers:
    data_dir = tmp_path_factory.mktemp("matrix") / "data"
    if request.param == "sqlite":
        answers: MatrixAnswers = run_sync(_gather_matrix(data_dir, None))
        return answers
    with fresh_database() as url:
        answers = run_sync(_gather_matrix(data_dir, url))
        return answers


@pytest.mark.parametrize(("person", "action", "case"), NON_HOLDER_CELLS)
def test_access_matrix_refuses_without_saying_anything_of_the_case(
    matrix: MatrixAnswers, person: str, action: str, case: str
) -> None:
    answer = matrix.cells[person, action, case]
    assert answer.status_code == EXPECTED[person][action]
    _assert_nothing_leaks(answer, matrix.ref if case == "existing case" else MISSING_REF)


@pytest.mark.parametrize("action", ACTIONS)
def test_access_matrix_lets_the_key_holder_do_everything(
    matrix: MatrixAnswers, action: str
) -> None:
    answer = matrix.cells["key holder", action, "existing case"]
    assert answer.status_code == EXPECTED["key holder"][action], answer.text


@pytest.mark.parametrize("person", [name for name, email in NON_HOLDERS.items() if email])
def test_access_matrix_queues_of_non_holders_are_empty(matrix: MatrixAnswers, person: str) -> None:
    assert matrix.queues[person] == {"cases": [], "next": None}


def test_access_matrix_listing_and_intake_need_a_session(matrix: MatrixAnswers) -> None:
    assert matrix.listing_without_session == [401, 401]


async def test_granting_to_an_excluded_person_is_refused_and_intake_is_an_officers_task(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    ref, officer = await _prepared_case(client, seeded)

    # Granting to the excluded person is refused; nothing changes.
    excluded_id = await _staff_id(seeded, EXCLUDED)
    refused = await officer.post(f"/api/v1/cases/{ref}/grants", {"staff_id": excluded_id})
    assert refused.status_code == 403 and "excluded" in refused.json()["error"]
    refused = await officer.post(f"/api/v1/cases/{ref}/assign", {"staff_id": excluded_id})
    assert refused.status_code == 403
    excluded = await sign_in(seeded, client, EXCLUDED)
    assert (await _call(excluded, "GET", f"/api/v1/cases/{ref}", None)).status_code == 404

    # Staff-entered intake is an officer's task.
    for email in ("investigator@example.org", "admin@example.org"):
        answer = await (await sign_in(seeded, client, email)).post(
            "/api/v1/cases", {"category": "financial", "body": "by phone", "channel": "phone"}
        )
        assert answer.status_code == 403, email


async def test_a_granted_investigator_reads_and_keeps_notes_only(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    ref, officer = await _prepared_case(client, seeded)
    investigator_id = await _staff_id(seeded, "investigator@example.org")
    granted = await officer.post(f"/api/v1/cases/{ref}/grants", {"staff_id": investigator_id})
    assert granted.status_code == 201
    investigator = await sign_in(seeded, client, "investigator@example.org")
    assert [row["ref"] for row in (await investigator.get("/api/v1/cases")).json()["cases"]] == [
        ref
    ]
    case = (await investigator.get(f"/api/v1/cases/{ref}")).json()
    assert case["report"]["body"] == SECRET_REPORT
    assert (
        await investigator.post(f"/api/v1/cases/{ref}/notes", {"body": "seen"})
    ).status_code == 201
    for path, body in (
        ("stage", {"stage": "assessing"}),
        ("messages", {"body": "hi"}),
        ("grants", {"staff_id": investigator_id}),
    ):
        answer = await investigator.post(f"/api/v1/cases/{ref}/{path}", body)
        assert answer.status_code == 403, path

    # Revoked, the investigator is back to nothing, and the last holder cannot be removed.
    assert (await officer.delete(f"/api/v1/cases/{ref}/grants/{investigator_id}")).is_success
    assert (await investigator.get(f"/api/v1/cases/{ref}")).status_code == 404
    officer_id = await _staff_id(seeded, OFFICER)
    holders = [h["id"] for h in (await officer.get(f"/api/v1/cases/{ref}")).json()["holders"]]
    for holder in holders:
        if holder != officer_id:
            assert (await officer.delete(f"/api/v1/cases/{ref}/grants/{holder}")).is_success
    last = await officer.delete(f"/api/v1/cases/{ref}/grants/{officer_id}")
    assert last.status_code == 422 and "last person" in last.json()["error"]


async def test_a_report_involving_the_office_never_reaches_its_staff(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    filed = await client.post(
        "/api/v1/reports",
        json={"category": "conduct", "body": SECRET_REPORT, "involves_office": True},
    )
    assert filed.status_code == 201
    async with seeded.runtime.sessions() as session:
        case = (await session.exec(select(Case))).one()
        keys = (await session.exec(select(CaseKey).where(CaseKey.case_id == case.id))).all()
        solicitor = (await session.exec(select(Staff).where(Staff.group_name == "solicitor"))).all()
    solicitor_ids = {person.id for person in solicitor}
    assert solicitor_ids and not solicitor_ids & {key.staff_id for key in keys}
    for person in solicitor:
        for key in keys:
            try:
                crypto.unseal(
                    key.sealed,
                    seeded.staff_private[person.email],
                    case_id=case.id,
                    purpose=keyring.CASE_KEY_PURPOSE,
                )
            except crypto.DecryptionError:
                continue
            raise AssertionError(f"{person.email} can open the case")

    for person in solicitor:
        if person.role == "investigator":
            continue
        staff = await sign_in(seeded, client, person.email)
        assert (await staff.get("/api/v1/cases")).json()["cases"] == []
        assert (await staff.get(f"/api/v1/cases/{case.ref}")).status_code == 404

    alternate = await sign_in(seeded, client, "alternate@example.org")
    rows = (await alternate.get("/api/v1/cases")).json()["cases"]
    assert [row["ref"] for row in rows] == [case.ref]
    shown = (await alternate.get(f"/api/v1/cases/{case.ref}")).json()
    assert shown["report"]["body"] == SECRET_REPORT and shown["involves_office"] is True
    # Nor can the alternate group hand it to them later.
    for person in solicitor:
        for action in ("grants", "assign"):
            refused = await alternate.post(
                f"/api/v1/cases/{case.ref}/{action}", {"staff_id": person.id}
            )
            assert refused.status_code == 403, (person.email, action)
    assert json.dumps(shown)  # a plain JSON document


async def test_hostile_references_and_ids_are_refused_cleanly(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    ref, officer = await _prepared_case(client, seeded)
    for bad_ref in ("QL-%00", "x" * 300, "%F0%9F%92%A3", "QL-00000-0000%00"):
        answer = await officer.get(f"/api/v1/cases/{bad_ref}")
        assert answer.status_code == 404, bad_ref
    for bad_id in ("\x00", "a" * 32 + "\x00", "é" * 40, "0" * 32):
        for path in ("grants", "assign"):
            answer = await officer.post(f"/api/v1/cases/{ref}/{path}", {"staff_id": bad_id})
            assert answer.status_code == 422, (path, bad_id)
    revoke = await officer.delete(f"/api/v1/cases/{ref}/grants/%00")
    assert revoke.status_code == 422
    for params in ({"category": "\x00"}, {"after": "MjAyNi0wMS0wMXwA"}, {"limit": "0"}):
        answer = await officer.get("/api/v1/cases", params=params)
        assert answer.status_code == 422, params
    login = await client.post(
        "/api/v1/staff/login", json={"email": "a\x00@b", "password": "p" * 12, "totp": "1"}
    )
    assert login.status_code == 401
