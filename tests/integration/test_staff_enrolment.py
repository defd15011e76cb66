"""The admin page's add (``administration.add_staff``) proposes the new member's directory entry
in the administrator's name, where a root key is pinned."""

from __future__ import annotations

import json

import httpx

from intake.accounts import administration, directory, sessions
from tests.support.instance import Instance
from tests.support.staffing import sign_in


async def test_an_administrator_adding_an_account_proposes_its_entry(
    sqlite_client: httpx.AsyncClient, sqlite_seeded: Instance
) -> None:
    made = sqlite_seeded
    runtime = made.runtime
    client = await sign_in(made, sqlite_client, "admin@example.org")
    admin = await sessions.authenticate(runtime, client.cookie)

    added = await administration.add_staff(
        runtime,
        admin,
        email="ivy@example.org",
        name="Ivy Investigator",
        role="investigator",
        group="solicitor",
        password="a long enough password",
        exclusion_label="Ivy I.",
    )

    assert added.directory_change is not None
    async with runtime.sessions() as session:
        pending = await directory.pending_changes(session)
    assert [c.id for c in pending] == [added.directory_change]
    change = pending[0]
    assert change.kind == "member" and change.proposer == admin.staff.id
    body = json.loads(change.body)
    assert body["staff_id"] == added.staff.id
    assert (body["role"], body["group"], body["label"]) == ("investigator", "solicitor", "Ivy I.")
    assert body["signing_public"] == added.staff.signing_public.hex()
