"""The administration pages say, per person, whether the recipient directory vouches for them as
shown, whether a change about them waits for approval, or that their row disagrees with the
directory and so receives nothing (issue 15)."""

from __future__ import annotations

import html
import re

import httpx
from sqlalchemy import update

from intake.accounts import keyring
from intake.storage import db
from intake.storage.models import Staff
from tests.support.instance import Instance
from tests.support.staffing import fresh_totp

ADMIN, OLIVIA, OMAR = "admin@example.org", "officer1@example.org", "officer2@example.org"


def _text(page: httpx.Response) -> str:
    assert page.status_code == 200, page.text
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page.text)))


def _row(page: httpx.Response, email: str) -> str:
    """The staff list's row of ``email``, as text."""
    for row in re.findall(r"<tr>.*?</tr>", page.text, flags=re.S):
        if email in row:
            return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", row)))
    raise AssertionError(f"no row for {email}")


async def _staff_id(made: Instance, email: str) -> str:
    async with made.runtime.sessions() as session:
        person = await keyring.staff_by_email(session, email)
    assert person is not None
    return person.id


async def test_the_staff_pages_say_what_the_directory_vouches_for(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    made = seeded
    answer = await client.post(
        "/staff/login",
        data={
            "email": ADMIN,
            "password": made.staff_passwords[ADMIN],
            "totp": await fresh_totp(made, ADMIN),
        },
    )
    assert answer.status_code == 303
    listed = await client.get("/admin/")
    assert "Vouched for" in _row(listed, OLIVIA)
    olivia = await _staff_id(made, OLIVIA)
    assert "vouches for this person as shown here" in _text(
        await client.get(f"/admin/staff/{olivia}")
    )

    # The administrator gives Olivia a name reporters may tick: it only waits for approval.
    csrf = re.search(r'name="csrf" value="([^"]+)"', listed.text)
    assert csrf
    edited = await client.post(
        f"/admin/staff/{olivia}",
        data={
            "csrf": csrf.group(1),
            "name": "Officer One",
            "role": "officer",
            "group": "solicitor",
            "exclusion_label": "Olivia",
        },
    )
    assert edited.status_code == 303
    assert "a change waits for approval" in _row(await client.get("/admin/"), OLIVIA)
    person = _text(await client.get(f"/admin/staff/{olivia}"))
    assert "waits for approval under Directory changes" in person
    assert "vouches for this person as shown here" in person  # the row still says the directory's

    # Someone who can write the database moves Omar to the alternate group behind the directory.
    async with db.transaction(made.runtime.sessions) as session:
        await session.exec(
            update(Staff).where(Staff.email == OMAR).values(group_name="alternate")  # type: ignore[arg-type]
        )
    assert "Differs from the directory: receives nothing" in _row(await client.get("/admin/"), OMAR)
    omar = _text(await client.get(f"/admin/staff/{await _staff_id(made, OMAR)}"))
    assert "differs from the recipient directory (their group)" in omar
    assert "receives no report and can be given no case" in omar

    french = _text(await client.get(f"/admin/staff/{await _staff_id(made, OMAR)}?lang=fr-CA"))
    assert "diffère du répertoire des destinataires (son groupe)" in french
