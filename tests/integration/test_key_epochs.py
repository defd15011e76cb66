"""Removal removes access cryptographically (SECURITY.md, "Key epochs"): a person whose copy of
a case's key is taken away, and who kept an old copy of the database and their password, opens
nothing written to the case afterwards, by the office or by the reporter; everyone who still
holds the case, the reporter and the group's recovery key open all of it."""

from __future__ import annotations

import httpx
from sqlmodel import select

import crypto
from intake.accounts import administration, keyring, sessions
from intake.casework import records
from intake.storage.models import CaseKey, Entry, Staff
from tests.support.casefactory import data_key_with
from tests.support.instance import Instance
from tests.support.reports import file_report
from tests.support.staffing import sign_in

OLIVIA, OMAR, OTTO = "officer1@example.org", "officer2@example.org", "officer3@example.org"
SECRET_NOTE = "Internal: the supplier is the deputy's brother-in-law."
REPORTER_FOLLOW_UP = "He also signed the second contract himself."


async def _old_copy(made: Instance, email: str) -> tuple[str, bytes]:
    """What the person keeps of the database before they are removed: their sealed copy."""
    async with made.runtime.sessions() as session:
        person = (await session.exec(select(Staff).where(Staff.email == email))).one()
        copy = (await session.exec(select(CaseKey).where(CaseKey.staff_id == person.id))).one()
    return person.id, copy.sealed


def _opened_from(made: Instance, email: str, case_id: str, sealed: bytes) -> crypto.KeyEpochs:
    return crypto.KeyEpochs.unpack(
        crypto.unseal(
            sealed, made.staff_private[email], case_id=case_id, purpose=keyring.CASE_KEY_PURPOSE
        )
    )


async def _entries(made: Instance, case_id: str, kind: str) -> list[Entry]:
    async with made.runtime.sessions() as session:
        rows = await session.exec(select(Entry).where(Entry.case_id == case_id, Entry.kind == kind))
        return list(rows.all())


def _reads(keys: crypto.KeyEpochs, entry: Entry) -> str | None:
    try:
        return records.decrypt_entry(keys, entry)
    except crypto.DecryptionError:
        return None


async def test_a_revoked_holder_with_an_old_copy_reads_nothing_written_afterwards(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    made = seeded
    token = await file_report(client)
    olivia = await sign_in(made, client, OLIVIA)
    ref = (await olivia.get("/api/v1/cases")).json()["cases"][0]["ref"]
    async with made.runtime.sessions() as session:
        case_id = (await session.exec(select(CaseKey.case_id))).first() or ""
    otto_id, kept = await _old_copy(made, OTTO)

    assert (await olivia.delete(f"/api/v1/cases/{ref}/grants/{otto_id}")).status_code in (200, 204)
    assert (
        await olivia.post(f"/api/v1/cases/{ref}/notes", {"body": SECRET_NOTE})
    ).status_code == 201
    assert (
        await olivia.post(f"/api/v1/cases/{ref}/messages", {"body": "Thank you."})
    ).status_code == 201
    follow_up = await client.post(
        "/api/v1/reports/messages", json={"token": token, "body": REPORTER_FOLLOW_UP}
    )
    assert follow_up.status_code == 201, follow_up.text

    (note,) = await _entries(made, case_id, "note")
    messages = await _entries(made, case_id, "message")
    (report,) = await _entries(made, case_id, "report")
    old_keys = _opened_from(made, OTTO, case_id, kept)
    # What Otto had before, he still reads; nothing written after his removal.
    assert _reads(old_keys, report) is not None
    assert _reads(old_keys, note) is None
    assert all(_reads(old_keys, message) is None for message in messages)

    # Those who still hold the case, the recovery key and the reporter read everything.
    omar = await data_key_with(made.runtime, case_id, made.staff_private[OMAR])
    recovery = await data_key_with(made.runtime, case_id, made.recovery_private, recovery=True)
    assert omar is not None and recovery is not None
    for keys in (omar, recovery):
        assert _reads(keys, note) == SECRET_NOTE
        assert {_reads(keys, message) for message in messages} == {"Thank you.", REPORTER_FOLLOW_UP}
    status = await client.post("/api/v1/reports/status", json={"token": token})
    assert "Thank you." in status.text and REPORTER_FOLLOW_UP in status.text
    viewed = await olivia.get(f"/api/v1/cases/{ref}")
    assert SECRET_NOTE in viewed.text


async def test_a_disabled_account_with_an_old_copy_cannot_read_the_reporters_next_message(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    made = seeded
    token = await file_report(client)
    async with made.runtime.sessions() as session:
        case_id = (await session.exec(select(CaseKey.case_id))).first() or ""
    otto_id, kept = await _old_copy(made, OTTO)
    admin = await sign_in(made, client, "admin@example.org")
    signed_in = await sessions.authenticate(made.runtime, admin.cookie)
    await administration.set_active(made.runtime, signed_in, otto_id, active=False)

    # The reporter writes first: the new epoch begins with the reporter's own keys.
    sent = await client.post(
        "/api/v1/reports/messages", json={"token": token, "body": REPORTER_FOLLOW_UP}
    )
    assert sent.status_code == 201, sent.text
    (message,) = await _entries(made, case_id, "message")
    assert message.epoch == 2
    assert _reads(_opened_from(made, OTTO, case_id, kept), message) is None
    olivia = await data_key_with(made.runtime, case_id, made.staff_private[OLIVIA])
    assert olivia is not None and _reads(olivia, message) == REPORTER_FOLLOW_UP
