"""Identity custodians for tests of confidential reporting: staff accounts of the custodian role,
entered in the recipient directory and approved by the root, as an administrator and an officer
would approve them."""

from __future__ import annotations

from intake.accounts import enrolment, keyring
from intake.storage import db
from tests.support.instance import PASSWORD, Instance, approve_pending_as_root

CUSTODIANS = (
    ("custodian1@example.org", "Custodian One", "solicitor"),
    ("custodian2@example.org", "Custodian Two", "alternate"),
)


async def add_custodians(
    made: Instance, people: tuple[tuple[str, str, str], ...] = CUSTODIANS
) -> None:
    runtime = made.runtime
    async with db.transaction(runtime.sessions) as session:
        for email, name, group in people:
            staff, unlocked = await keyring.create_staff(
                session,
                made.settings,
                email=email,
                name=name,
                role="custodian",
                group=group,
                password=PASSWORD,
            )
            await session.flush()
            await enrolment.propose_member(
                session, staff, root_public=runtime.secrets.root_public or b"", proposer="cli"
            )
            made.staff_passwords[email] = PASSWORD
            made.staff_private[email] = unlocked.private_key
            made.totp_secrets[email] = unlocked.totp_secret
    await approve_pending_as_root(made)
