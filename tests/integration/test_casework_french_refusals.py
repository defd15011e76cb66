"""The case-deleted answer and the routing refusals reach French users in French, naming groups
by their display names, never by internal ids."""

from __future__ import annotations

import httpx
from sqlmodel import select

from intake.storage.models import Case, Staff
from tests.support.casefactory import report_token, update_case
from tests.support.instance import Instance, set_labels
from tests.support.staffing import StaffClient, sign_in

FRENCH = {"Accept-Language": "fr-CA"}
EXCLUDED = "officer3@example.org"


async def _post_in_french(staff: StaffClient, path: str, body: object) -> httpx.Response:
    return await staff.http.post(path, json=body, headers={**staff.headers, **FRENCH})


async def _person(made: Instance, email: str) -> Staff:
    async with made.runtime.sessions() as session:
        return (await session.exec(select(Staff).where(Staff.email == email))).one()


async def _only_case(made: Instance) -> Case:
    async with made.runtime.sessions() as session:
        return (await session.exec(select(Case))).one()


async def test_a_deleted_case_is_answered_in_french(
    sqlite_client: httpx.AsyncClient, sqlite_seeded: Instance
) -> None:
    token = await report_token(sqlite_seeded.runtime)
    case = await _only_case(sqlite_seeded)
    await update_case(sqlite_seeded.runtime, case.id, purged_on=sqlite_seeded.runtime.today())
    answer = await sqlite_client.post(
        "/api/v1/reports/status", json={"token": token}, headers=FRENCH
    )
    assert answer.status_code == 410
    assert answer.json()["error"].startswith("Ce dossier est clos et son contenu a été supprimé")


async def test_granting_an_excluded_person_is_refused_in_french(
    sqlite_client: httpx.AsyncClient, sqlite_seeded: Instance
) -> None:
    await set_labels(sqlite_seeded, {EXCLUDED: "Officer Three"})
    excluded = await _person(sqlite_seeded, EXCLUDED)
    await report_token(sqlite_seeded.runtime, excluded_staff_ids=(excluded.id,))
    ref = (await _only_case(sqlite_seeded)).ref
    officer = await sign_in(sqlite_seeded, sqlite_client, "officer1@example.org")
    for action in ("grants", "assign"):
        refused = await _post_in_french(
            officer, f"/api/v1/cases/{ref}/{action}", {"staff_id": excluded.id}
        )
        assert refused.status_code == 403, action
        assert refused.json()["error"] == (
            f"{excluded.name} a été exclu·e par l'auteur du signalement et ne pourra jamais "
            "avoir accès à ce dossier."
        ), action


async def test_giving_a_case_about_the_office_to_its_members_is_refused_in_french(
    sqlite_client: httpx.AsyncClient, sqlite_seeded: Instance
) -> None:
    await report_token(sqlite_seeded.runtime, category="conduct", involves_office=True)
    ref = (await _only_case(sqlite_seeded)).ref
    member = await _person(sqlite_seeded, "officer1@example.org")
    alternate = await sign_in(sqlite_seeded, sqlite_client, "alternate@example.org")
    for action in ("grants", "assign"):
        refused = await _post_in_french(
            alternate, f"/api/v1/cases/{ref}/{action}", {"staff_id": member.id}
        )
        assert refused.status_code == 403, action
        error = refused.json()["error"]
        assert error == (
            "La personne qui a fait le signalement a indiqué que ce dossier concerne le Service "
            "juridique\u00a0: il ne peut pas être confié à ses membres."
        ), action
        assert sqlite_seeded.settings.default_group not in error


async def test_the_office_refusal_names_the_group_by_its_display_name_in_english(
    sqlite_client: httpx.AsyncClient, sqlite_seeded: Instance
) -> None:
    await report_token(sqlite_seeded.runtime, category="conduct", involves_office=True)
    ref = (await _only_case(sqlite_seeded)).ref
    member = await _person(sqlite_seeded, "officer1@example.org")
    alternate = await sign_in(sqlite_seeded, sqlite_client, "alternate@example.org")
    refused = await alternate.post(f"/api/v1/cases/{ref}/grants", {"staff_id": member.id})
    assert refused.status_code == 403
    assert refused.json()["error"] == (
        "The reporter said this case involves the solicitor's office: it cannot be given to "
        "its members."
    )
