"""Staff signing keys: each account has an Ed25519 pair whose private half is locked under the
password and unlocked into the session, so a request can sign as that officer
(SECURITY.md, "Staff keys" and "Staff sessions")."""

from __future__ import annotations

import httpx
import pytest

import crypto
from intake.accounts import administration, keyring, sessions
from intake.errors import InvalidInput
from intake.storage import db
from tests.support.instance import PASSWORD, Instance
from tests.support.staffing import sign_in

OFFICER = "officer1@example.org"
ADMIN = "admin@example.org"
PURPOSE = "test-purpose"


async def _signed_in(made: Instance, http: httpx.AsyncClient, email: str) -> sessions.SignedIn:
    client = await sign_in(made, http, email)
    return await sessions.authenticate(made.runtime, client.cookie)


async def _stored_signing_public(made: Instance, email: str) -> bytes | None:
    async with made.runtime.sessions() as session:
        staff = await keyring.staff_by_email(session, email)
        assert staff is not None
        return staff.signing_public


async def test_a_session_signs_and_the_stored_public_half_verifies(
    sqlite_client: httpx.AsyncClient, sqlite_seeded: Instance
) -> None:
    public = await _stored_signing_public(sqlite_seeded, OFFICER)
    assert public is not None and len(public) == 32
    officer = await _signed_in(sqlite_seeded, sqlite_client, OFFICER)
    signature = officer.sign(b"an entry", purpose=PURPOSE)
    crypto.verify(public, b"an entry", signature, purpose=PURPOSE)
    with pytest.raises(crypto.SignatureError):
        crypto.verify(public, b"another entry", signature, purpose=PURPOSE)
    assert "signing_key" not in repr(officer)


async def test_an_old_credential_still_signs_in_and_a_password_change_makes_a_signing_key(
    sqlite_client: httpx.AsyncClient, sqlite_seeded: Instance
) -> None:
    made = sqlite_seeded
    async with db.transaction(made.runtime.sessions) as session:
        staff = await keyring.staff_by_email(session, OFFICER)
        assert staff is not None
        unlocked = await keyring.unlock_staff_secrets(staff.credential, PASSWORD)
        old = keyring.StaffSecrets(unlocked.private_key, unlocked.totp_secret)
        staff.credential = await keyring.lock_staff_secrets(made.settings, PASSWORD, old)
        staff.signing_public = None
        session.add(staff)
    assert len(old.pack()) == 64  # the format of accounts made before signing keys

    officer = await _signed_in(made, sqlite_client, OFFICER)
    assert officer.private_key == unlocked.private_key
    with pytest.raises(InvalidInput, match="no signing key yet"):
        officer.sign(b"an entry", purpose=PURPOSE)

    new_password = "a new password, long enough"
    await sessions.change_password(made.runtime, officer, current=PASSWORD, new=new_password)
    made.staff_passwords[OFFICER] = new_password
    public = await _stored_signing_public(made, OFFICER)
    assert public is not None
    again = await _signed_in(made, sqlite_client, OFFICER)
    assert again.private_key == unlocked.private_key
    crypto.verify(public, b"m", again.sign(b"m", purpose=PURPOSE), purpose=PURPOSE)


async def test_a_reset_makes_a_new_signing_pair(
    sqlite_client: httpx.AsyncClient, sqlite_seeded: Instance
) -> None:
    made = sqlite_seeded
    before = await _stored_signing_public(made, OFFICER)
    admin = await _signed_in(made, sqlite_client, ADMIN)
    async with made.runtime.sessions() as session:
        staff = await keyring.staff_by_email(session, OFFICER)
        assert staff is not None
    new_password = "a reset password, long enough"
    made_anew = await administration.reset_staff(
        made.runtime, admin, staff.id, password=new_password
    )
    made.staff_passwords[OFFICER] = new_password
    made.totp_secrets[OFFICER] = made_anew.totp_secret
    after = await _stored_signing_public(made, OFFICER)
    assert after is not None and after != before
    officer = await _signed_in(made, sqlite_client, OFFICER)
    crypto.verify(after, b"m", officer.sign(b"m", purpose=PURPOSE), purpose=PURPOSE)
