"""The routing promise against insiders (SECURITY.md, "Insiders"): an administrator, or whoever
can write the database, cannot make a report readable to someone the verified directory and the
routing rules do not allow.

Each test is an attack a review carried out against the service as it was: relabelling, moving
an officer between groups, an administrator's own officer account, an inserted recovery-key row
and a replaced staff public key. After each, a report is filed and every sealed copy of its key
is checked: exactly the allowed people (and the receiving group's recovery key) can open it.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import select

import crypto
from intake.accounts import administration, keyring, sessions
from intake.casework import filing, holders
from intake.errors import InvalidInput
from intake.storage import db
from intake.storage.models import Case, CaseKey, RecoveryKey, Staff
from tests.support.casefactory import file_report
from tests.support.instance import PASSWORD, Instance, approve_pending_as_root
from tests.support.staffing import sign_in

OLIVIA, OMAR, OTTO = "officer1@example.org", "officer2@example.org", "officer3@example.org"
ALEX, ADMIN = "alternate@example.org", "admin@example.org"


async def _staff(made: Instance, email: str) -> Staff:
    async with made.runtime.sessions() as session:
        found = await keyring.staff_by_email(session, email)
    assert found is not None
    return found


async def _signed_in(made: Instance, http: httpx.AsyncClient, email: str) -> sessions.SignedIn:
    client = await sign_in(made, http, email)
    return await sessions.authenticate(made.runtime, client.cookie)


async def _readers(made: Instance, case: Case, privates: dict[str, bytes]) -> set[str]:
    """Who, of ``privates`` (a name for each private key), opens a copy of the case's key."""
    async with made.runtime.sessions() as session:
        copies = (await session.exec(select(CaseKey).where(CaseKey.case_id == case.id))).all()
    opened = set()
    for name, private in privates.items():
        for copy in copies:
            try:
                crypto.unseal(
                    copy.sealed, private, case_id=case.id, purpose=keyring.CASE_KEY_PURPOSE
                )
            except crypto.DecryptionError:
                continue
            opened.add(name)
    return opened


def _everyone(made: Instance, **extra: bytes) -> dict[str, bytes]:
    return {
        **made.staff_private,
        **{f"recovery:{group}": key for group, key in made.recovery_privates.items()},
        **extra,
    }


async def _label(made: Instance, admin: sessions.SignedIn, email: str, label: str) -> None:
    person = await _staff(made, email)
    await administration.update_staff(
        made.runtime,
        admin,
        person.id,
        name=person.name,
        role=person.role,
        group=person.group_name,
        exclusion_label=label,
    )


async def test_swapping_exclusion_labels_does_not_send_a_report_to_the_excluded(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    made = seeded
    admin = await _signed_in(made, client, ADMIN)
    await _label(made, admin, OLIVIA, "Olivia")
    await _label(made, admin, OMAR, "Omar")
    assert await approve_pending_as_root(made) == 2
    # The administrator swaps the two labels, in the application and in the database.
    await _label(made, admin, OLIVIA, "Omar")
    await _label(made, admin, OMAR, "Olivia")
    async with made.runtime.sessions() as session:
        offered = {
            person.label: person.id
            for person in await filing.exclusion_choices(session, made.runtime)
        }
    olivia = await _staff(made, OLIVIA)
    assert offered["Olivia"] == olivia.id  # the swap waits for two officers' signatures
    _, case = await file_report(made.runtime, excluded_staff_ids=(offered["Olivia"],))
    assert await _readers(made, case, _everyone(made)) == {OMAR, OTTO, "recovery:solicitor"}

    async with db.transaction(made.runtime.sessions) as session:
        for email, label in ((OLIVIA, "Omar"), (OMAR, "Olivia")):
            await session.exec(
                update(Staff).where(Staff.email == email).values(exclusion_label=label)  # type: ignore[arg-type]
            )
    async with made.runtime.sessions() as session:
        offered = {
            person.label: person.id
            for person in await filing.exclusion_choices(session, made.runtime)
        }
    assert offered["Olivia"] == olivia.id
    _, case = await file_report(made.runtime, excluded_staff_ids=(offered["Olivia"],))
    # Reporters are offered the directory's labels, so the rewritten rows change nothing.
    assert await _readers(made, case, _everyone(made)) == {OMAR, OTTO, "recovery:solicitor"}


async def test_a_group_move_and_back_leaves_no_copy_of_a_report_about_the_office(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    made = seeded
    admin = await _signed_in(made, client, ADMIN)
    olivia = await _staff(made, OLIVIA)

    async def move(group: str) -> None:
        await administration.update_staff(
            made.runtime,
            admin,
            olivia.id,
            name=olivia.name,
            role=olivia.role,
            group=group,
            exclusion_label=None,
        )

    await move("alternate")  # proposed, not applied: the administrator cannot sign it alone
    _, about_office = await file_report(made.runtime, involves_office=True)
    assert await _readers(made, about_office, _everyone(made)) == {ALEX, "recovery:alternate"}

    # Moved in the database behind the directory's back: the row no longer agrees, so nothing.
    async with db.transaction(made.runtime.sessions) as session:
        await session.exec(
            update(Staff).where(Staff.email == OLIVIA).values(group_name="alternate")  # type: ignore[arg-type]
        )
    _, about_office = await file_report(made.runtime, involves_office=True)
    assert await _readers(made, about_office, _everyone(made)) == {ALEX, "recovery:alternate"}
    async with db.transaction(made.runtime.sessions) as session:
        await session.exec(
            update(Staff).where(Staff.email == OLIVIA).values(group_name="solicitor")  # type: ignore[arg-type]
        )

    # Moved with the signatures the rule asks for: she receives what the alternate group does,
    # and when she is moved back, the report about her office is taken from her.
    assert await approve_pending_as_root(made) == 1
    _, about_office = await file_report(made.runtime, involves_office=True)
    assert OLIVIA in await _readers(made, about_office, _everyone(made))
    await move("solicitor")
    assert await approve_pending_as_root(made) == 1
    assert OLIVIA not in await _readers(made, about_office, _everyone(made))


async def test_an_administrators_own_officer_account_receives_nothing(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    made = seeded
    admin = await _signed_in(made, client, ADMIN)
    made_by_admin = await administration.add_staff(
        made.runtime,
        admin,
        email="shadow@example.org",
        name="Shadow Officer",
        role="officer",
        group="solicitor",
        password=PASSWORD,
    )
    assert made_by_admin.directory_change is not None
    _, case = await file_report(made.runtime)
    async with made.runtime.sessions() as session:
        copies = (await session.exec(select(CaseKey).where(CaseKey.case_id == case.id))).all()
    assert made_by_admin.staff.id not in {copy.staff_id for copy in copies}
    # Nor can the administrator approve it alone.
    with pytest.raises(InvalidInput):
        async with db.transaction(made.runtime.sessions) as session:
            await holders.approve_change(
                session,
                made.runtime,
                made_by_admin.directory_change,
                signer=admin.staff.id,
                signing_private=admin.signing_key or b"",
            )


async def test_an_inserted_recovery_key_row_receives_nothing(seeded: Instance) -> None:
    made = seeded
    attacker = crypto.generate_keypair()
    async with db.transaction(made.runtime.sessions) as session:
        session.add(RecoveryKey(public_key=attacker.public, active=True))
        await session.exec(
            update(RecoveryKey)
            .where(RecoveryKey.public_key != attacker.public)
            .values(active=False)  # type: ignore[arg-type]
        )
    _, case = await file_report(made.runtime)
    readers = await _readers(made, case, _everyone(made, attacker=attacker.private))
    assert readers == {OLIVIA, OMAR, OTTO, "recovery:solicitor"}


async def test_a_replaced_staff_public_key_receives_nothing(seeded: Instance) -> None:
    made = seeded
    attacker = crypto.generate_keypair()
    async with db.transaction(made.runtime.sessions) as session:
        await session.exec(
            update(Staff).where(Staff.email == OLIVIA).values(public_key=attacker.public)  # type: ignore[arg-type]
        )
    _, case = await file_report(made.runtime)
    readers = await _readers(made, case, _everyone(made, attacker=attacker.private))
    assert readers == {OMAR, OTTO, "recovery:solicitor"}
