"""Officers approve or refuse the recipient directory's pending changes, signed in, through the API
and the staff page "Directory changes" (issue 15): two officers put an administrator's new
officer into effect; one is not enough; the administrator cannot complete their own proposal;
a refused change leaves the list; every decision is audited and needs the session's CSRF token.
"""

from __future__ import annotations

import asyncio
import html
import json
import re

import httpx
from sqlmodel import select

from intake.accounts import administration, keyring, sessions
from intake.accounts.administration import NewCredentials
from intake.storage.models import AuditEvent
from tests.support import reports
from tests.support.catalog_check import catalog_sentences, untranslated
from tests.support.instance import PASSWORD, Instance
from tests.support.staffing import COOKIE, fresh_totp, sign_in

OLIVIA, OMAR, OTTO = "officer1@example.org", "officer2@example.org", "officer3@example.org"
ALEX, ADMIN, IVY = "alternate@example.org", "admin@example.org", "investigator@example.org"
NEW = "nadia@example.org"


async def _add_officer(made: Instance, http: httpx.AsyncClient, **changes: str) -> NewCredentials:
    """The administrator adds an intake officer of the solicitor's office (a pending change)."""
    admin = await sign_in(made, http, ADMIN)
    signed_in = await sessions.authenticate(made.runtime, admin.cookie)
    values = {"email": NEW, "name": "Nadia New", "role": "officer", "group": "solicitor"}
    made_account = await administration.add_staff(
        made.runtime, signed_in, password=PASSWORD, **{**values, **changes}
    )
    made.staff_passwords[made_account.staff.email] = PASSWORD
    made.totp_secrets[made_account.staff.email] = made_account.totp_secret
    return made_account


async def _pending(made: Instance, http: httpx.AsyncClient, email: str) -> list[dict[str, object]]:
    answer = await (await sign_in(made, http, email)).get("/api/v1/directory/pending")
    assert answer.status_code == 200, answer.text
    changes: list[dict[str, object]] = answer.json()["changes"]
    return changes


async def _cases_of(made: Instance, http: httpx.AsyncClient, email: str) -> int:
    listed = await (await sign_in(made, http, email)).get("/api/v1/cases")
    assert listed.status_code == 200, listed.text
    return len(listed.json()["cases"])


async def _audited(made: Instance, action: str) -> list[dict[str, object]]:
    async with made.runtime.sessions() as session:
        rows = (await session.exec(select(AuditEvent).where(AuditEvent.action == action))).all()
    return [{"actor": row.actor, **json.loads(row.detail)} for row in rows]


async def test_two_officers_approve_an_administrators_new_officer_who_then_receives_reports(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    made = seeded
    added = await _add_officer(made, client)
    [change] = await _pending(made, client, OLIVIA)
    assert change["kind"] == "member" and change["proposed_by"] == ADMIN
    assert change["member"] == {"id": added.staff.id, "name": "Nadia New", "email": NEW}
    assert change["before"] is None
    assert change["after"] == {
        "group": "solicitor",
        "role": "officer",
        "label": None,
        "active": True,
    }
    assert change["keys_change"] is True and change["you_may_sign"] is True
    assert change["needs"]["count"] == 2  # type: ignore[index]
    assert {p["email"] for p in change["needs"]["from"]} == {OLIVIA, OMAR, OTTO}  # type: ignore[index]
    assert any("Nadia New" in sentence for sentence in change["summary"])  # type: ignore[attr-defined]

    # The administrator who proposed it cannot sign it: the rule asks for two officers.
    [seen_by_admin] = await _pending(made, client, ADMIN)
    assert seen_by_admin["you_may_sign"] is False and seen_by_admin["you_may_refuse"] is True
    admin = await sign_in(made, client, ADMIN)
    refused = await admin.post(f"/api/v1/directory/changes/{change['id']}/approve")
    assert refused.status_code in (403, 422), refused.text
    assert "rule" in refused.json()["error"]

    # One officer is not enough: a report filed now does not reach the new officer.
    olivia = await sign_in(made, client, OLIVIA)
    first = await olivia.post(f"/api/v1/directory/changes/{change['id']}/approve")
    assert first.status_code == 200 and first.json()["outcome"] == "pending", first.text
    again = await olivia.post(f"/api/v1/directory/changes/{change['id']}/approve")
    assert again.status_code == 422
    await reports.file_report(client)
    assert await _cases_of(made, client, NEW) == 0
    [waiting] = await _pending(made, client, OTTO)
    assert [p["email"] for p in waiting["signed_by"]] == [OLIVIA]  # type: ignore[union-attr]
    assert waiting["needs"]["count"] == 1  # type: ignore[index]

    omar = await sign_in(made, client, OMAR)
    second = await omar.post(f"/api/v1/directory/changes/{change['id']}/approve")
    assert second.status_code == 200 and second.json()["outcome"] == "applied", second.text
    assert await _pending(made, client, OLIVIA) == []
    await reports.file_report(client)
    assert await _cases_of(made, client, NEW) == 1  # the next report, and not the earlier one

    approvals = await _audited(made, "directory.approve")
    assert [(a["actor"], a["outcome"]) for a in approvals] == [
        (OLIVIA, "pending"),
        (OMAR, "applied"),
    ]
    assert approvals[1]["proposer"] == ADMIN and approvals[1]["member"] == NEW
    assert approvals[1]["before"] is None
    assert approvals[1]["after"] == change["after"]


async def test_a_refused_change_leaves_the_list_and_never_takes_effect(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    made = seeded
    added = await _add_officer(made, client)
    [change] = await _pending(made, client, OLIVIA)
    ivy = await sign_in(made, client, IVY)
    assert (await ivy.get("/api/v1/directory/pending")).status_code == 403
    assert (await ivy.post(f"/api/v1/directory/changes/{change['id']}/refuse")).status_code == 403
    alex = await sign_in(made, client, ALEX)  # an officer of another group
    refused = await alex.post(f"/api/v1/directory/changes/{change['id']}/refuse")
    assert refused.status_code == 403
    assert len(await _pending(made, client, OLIVIA)) == 1

    otto = await sign_in(made, client, OTTO)
    answer = await otto.post(f"/api/v1/directory/changes/{change['id']}/refuse")
    assert answer.status_code == 200 and answer.json()["outcome"] == "refused", answer.text
    assert await _pending(made, client, OLIVIA) == []
    late = await otto.post(f"/api/v1/directory/changes/{change['id']}/approve")
    assert late.status_code == 422
    await reports.file_report(client)
    assert await _cases_of(made, client, added.staff.email) == 0
    [refusal] = await _audited(made, "directory.refuse")
    assert refusal["actor"] == OTTO and refusal["refuser"] == OTTO
    assert refusal["proposer"] == ADMIN and refusal["member"] == NEW


async def test_deciding_needs_the_sessions_csrf_token_and_a_known_change(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    made = seeded
    await _add_officer(made, client)
    [change] = await _pending(made, client, OLIVIA)
    olivia = await sign_in(made, client, OLIVIA)
    no_csrf = {"Cookie": f"{COOKIE}={olivia.cookie}"}
    for decision in ("approve", "refuse"):
        forged = await client.post(
            f"/api/v1/directory/changes/{change['id']}/{decision}", headers=no_csrf
        )
        assert forged.status_code == 403, forged.text
    page_forged = await client.post(
        "/staff/directory", data={"change": change["id"], "decision": "refuse"}, headers=no_csrf
    )
    assert page_forged.status_code == 403
    [still] = await _pending(made, client, OLIVIA)
    assert still["signed_by"] == []
    assert await _audited(made, "directory.approve") == []
    for unknown in ("0" * 32, "not-an-id", "%00"):
        answer = await olivia.post(f"/api/v1/directory/changes/{unknown}/approve")
        assert answer.status_code in (404, 422), answer.text


async def test_the_page_in_french_says_what_each_change_does_and_approves_one(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    made = seeded
    admin = await sign_in(made, client, ADMIN)
    signed_in = await sessions.authenticate(made.runtime, admin.cookie)
    async with made.runtime.sessions() as session:
        omar = await keyring.staff_by_email(session, OMAR)
        otto = await keyring.staff_by_email(session, OTTO)
    assert omar is not None and otto is not None
    # Omar's move to the alternate group (which has one officer: only the root can sign it),
    # and a name for Otto that reporters may tick (two officers of his group can sign it).
    for person, group, label in ((omar, "alternate", None), (otto, "solicitor", "Otto Three")):
        await administration.update_staff(
            made.runtime,
            signed_in,
            person.id,
            name=person.name,
            role="officer",
            group=group,
            exclusion_label=label,
        )
    mine = {c["member"]["email"]: c for c in await _pending(made, client, OLIVIA)}  # type: ignore[index]
    assert mine[OMAR]["you_may_sign"] is False and mine[OMAR]["needs"]["root_only"] is True  # type: ignore[index]
    assert mine[OTTO]["you_may_sign"] is True

    answer = await client.post(
        "/staff/login",
        data={"email": OLIVIA, "password": PASSWORD, "totp": await fresh_totp(made, OLIVIA)},
    )
    assert answer.status_code == 303
    page = await client.get("/staff/directory", params={"lang": "fr-CA"})
    assert page.status_code == 200, page.text
    text = re.sub(r"\s+", " ", html.unescape(page.text))
    assert '<html lang="fr-CA">' in text
    assert "Changements au répertoire" in text
    assert (
        "Officer Two quitterait le Service juridique pour les destinataires de remplacement" in text
    )
    assert "Seuls les dépositaires de la clé racine du bureau" in text
    assert "en cochant « Otto Three »" in text
    assert "Approuver" in text and "Refuser" in text
    assert untranslated(page.text, catalog_sentences()) == []
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    approved = await client.post(
        "/staff/directory?lang=fr-CA",
        data={"csrf": csrf.group(1), "change": str(mine[OTTO]["id"]), "decision": "approve"},
    )
    assert approved.status_code == 303, approved.text
    shown = await client.get(approved.headers["location"])
    assert "Approuvé. Le changement entrera en vigueur" in html.unescape(shown.text)
    assert "Vous avez approuvé ce changement." in html.unescape(shown.text)


async def test_two_officers_approving_at_once_both_count(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    made = seeded
    await _add_officer(made, client)
    [change] = await _pending(made, client, OLIVIA)
    olivia = await sign_in(made, client, OLIVIA)
    omar = await sign_in(made, client, OMAR)
    path = f"/api/v1/directory/changes/{change['id']}/approve"
    answers = await asyncio.gather(olivia.post(path), omar.post(path))
    assert [answer.status_code for answer in answers] == [200, 200]
    assert sorted(answer.json()["outcome"] for answer in answers) == ["applied", "pending"]
    assert await _pending(made, client, OLIVIA) == []


async def test_the_person_a_change_is_about_cannot_refuse_it(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    made = seeded
    admin = await sign_in(made, client, ADMIN)
    signed_in = await sessions.authenticate(made.runtime, admin.cookie)
    async with made.runtime.sessions() as session:
        omar = await keyring.staff_by_email(session, OMAR)
    assert omar is not None
    # Omar would stop being an intake officer: he must not be able to keep himself in place.
    await administration.update_staff(
        made.runtime,
        signed_in,
        omar.id,
        name=omar.name,
        role="investigator",
        group="solicitor",
        exclusion_label=None,
    )
    [change] = await _pending(made, client, OMAR)
    assert change["you_may_refuse"] is False and change["you_may_sign"] is False
    himself = await sign_in(made, client, OMAR)
    refused = await himself.post(f"/api/v1/directory/changes/{change['id']}/refuse")
    assert refused.status_code == 403
    assert len(await _pending(made, client, OLIVIA)) == 1
