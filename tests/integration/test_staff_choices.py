"""A case page offers only the choices that can be made: the people it lists to assign or give
a case to are those the server would accept, and it links only to what the reader can open."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import text

from intake.accounts import keyring
from intake.storage import db
from tests.support import casefactory
from tests.support.instance import SEED_STAFF, Instance, set_labels
from tests.support.staffing import StaffClient, sign_in

OFFICER = "officer1@example.org"
ALTERNATE = "alternate@example.org"
EXCLUDED = "officer3@example.org"
INVESTIGATOR = "investigator@example.org"
SOLICITOR_GROUP = {email for email, _name, _role, group in SEED_STAFF if group == "solicitor"}


async def _ids(made: Instance) -> dict[str, str]:
    async with made.runtime.sessions() as session:
        found = {}
        for email, *_ in SEED_STAFF:
            person = await keyring.staff_by_email(session, email)
            assert person is not None
            found[email] = person.id
        return found


def _options(page: str, select_id: str) -> list[str]:
    """The values a <select> offers (an empty list when the page has no such list)."""
    found = re.search(rf'<select id="{select_id}"[^>]*>(.*?)</select>', page, re.S)
    if found is None:
        return []
    return re.findall(r'<option value="([^"]*)"', found.group(1))


async def _page_post(who: StaffClient, path: str, data: dict[str, str]) -> httpx.Response:
    return await who.http.post(
        path, data={**data, "csrf": who.csrf}, headers={"Cookie": who.headers["Cookie"]}
    )


async def test_a_case_about_the_office_offers_none_of_its_members(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    ids = await _ids(seeded)
    _, case = await casefactory.file_report(seeded.runtime, involves_office=True)
    alternate = await sign_in(seeded, client, ALTERNATE)
    page = await alternate.get(f"/staff/cases/{case.ref}")
    assert page.status_code == 200
    offered = set(_options(page.text, "assignee")) | set(_options(page.text, "grantee"))
    office = {ids[email] for email in SOLICITOR_GROUP}
    assert offered and not offered & office
    assert set(_options(page.text, "assignee")) == {"", ids[ALTERNATE]}
    assert "Give access to" not in page.text  # nobody left to give it to

    # The server still refuses what the page no longer offers.
    for action in ("grants", "assign"):
        refused = await _page_post(
            alternate, f"/staff/cases/{case.ref}/{action}", {"staff_id": ids[OFFICER]}
        )
        assert refused.status_code == 403, (action, refused.text)
        assert "involves the solicitor's office" in refused.text


async def test_the_excluded_the_unvouched_and_the_holders_are_not_offered(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    ids = await _ids(seeded)
    await set_labels(seeded, {EXCLUDED: "Officer Three"})
    _, case = await casefactory.file_report(seeded.runtime, excluded_staff_ids=(ids[EXCLUDED],))
    # The investigator's row no longer agrees with the directory: it vouches for them no more.
    async with db.transaction(seeded.runtime.sessions) as session:
        await session.exec(
            text("UPDATE staff SET role = 'officer' WHERE id = :id"),
            params={"id": ids[INVESTIGATOR]},
        )
    officer = await sign_in(seeded, client, OFFICER)
    page = (await officer.get(f"/staff/cases/{case.ref}")).text
    grantable = _options(page, "grantee")
    assignable = _options(page, "assignee")
    assert grantable[0] == ""  # no one is chosen until the officer chooses
    assert set(grantable[1:]) == {ids["admin@example.org"], ids[ALTERNATE]}
    assert ids[EXCLUDED] not in assignable and ids[INVESTIGATOR] not in assignable
    # The holders (the officer among them) may be assigned; nobody is given it twice.
    assert {ids[OFFICER], ids["officer2@example.org"]} <= set(assignable)
    assert ids[OFFICER] not in grantable

    refused = await _page_post(
        officer, f"/staff/cases/{case.ref}/grants", {"staff_id": ids[EXCLUDED]}
    )
    assert refused.status_code == 403 and "excluded by the reporter" in refused.text
    refused = await _page_post(
        officer, f"/staff/cases/{case.ref}/grants", {"staff_id": ids[INVESTIGATOR]}
    )
    assert refused.status_code == 403 and "verified recipient directory" in refused.text
    given = await _page_post(
        officer, f"/staff/cases/{case.ref}/grants", {"staff_id": ids[ALTERNATE]}
    )
    assert given.status_code == 303


async def test_recording_a_report_about_ones_own_office_offers_no_link_to_it(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    officer = await sign_in(seeded, client, OFFICER)
    for about_office in (True, False):
        data = {"category": "safety", "body": "Gas smell in depot 4.", "channel": "phone"}
        if about_office:
            data["involves_office"] = "yes"
        recorded = await _page_post(officer, "/staff/new", data)
        assert recorded.status_code == 201, recorded.text
        ref = re.search(r"recorded as case (QL-[0-9A-Z-]+)", recorded.text).group(1)
        opens = (await officer.get(f"/staff/cases/{ref}")).status_code
        linked = f'href="/staff/cases/{ref}"' in recorded.text
        assert (opens, linked, "Open the case" in recorded.text) == (
            (404, False, False) if about_office else (200, True, True)
        )
