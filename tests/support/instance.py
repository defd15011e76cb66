"""A migrated, seeded Quietline instance in-process, and the environment of one under test."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import crypto
from intake import datadir
from intake.accounts import directory, enrolment, installation, instance, keyring, membership
from intake.accounts.ceremony import CustodianPlan, SplitKey, genesis_entries
from intake.accounts.directory_rules import ROOT
from intake.casework import holders
from intake.config import Settings, load_settings
from intake.runtime import Runtime, open_runtime
from intake.storage import db
from tests.support.clock import SettableClock

PASSWORD = "correct horse battery staple"


def quietline_environ(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    """Environment for a Quietline process under test: cheap Argon2id, its own data dir."""
    environ = {
        "QUIETLINE_DATA_DIR": str(data_dir),
        "QUIETLINE_DEV": "1",
        "QUIETLINE_PASSWORD_ITERATIONS": "1",
        "QUIETLINE_PASSWORD_MEMORY_KIB": "1024",
    }
    if database_url:
        environ["QUIETLINE_DATABASE_URL"] = database_url
    return environ


@dataclass
class Instance:
    """A migrated, seeded instance and the secrets a test needs to check what it stored."""

    settings: Settings
    runtime: Runtime
    clock: SettableClock
    staff_passwords: dict[str, str] = field(default_factory=dict)
    staff_private: dict[str, bytes] = field(default_factory=dict)
    totp_secrets: dict[str, str] = field(default_factory=dict)
    # The default group's recovery private key; every group's in ``recovery_privates``.
    recovery_private: bytes = b""
    recovery_privates: dict[str, bytes] = field(default_factory=dict)
    # The office root key, whole: tests sign directory changes with it as its custodians would.
    root_private: bytes = b""


SEED_STAFF = (
    ("officer1@example.org", "Officer One", "officer", "solicitor"),
    ("officer2@example.org", "Officer Two", "officer", "solicitor"),
    ("officer3@example.org", "Officer Three", "officer", "solicitor"),
    ("alternate@example.org", "Alternate Officer", "officer", "alternate"),
    ("investigator@example.org", "Investigator", "investigator", "solicitor"),
    ("admin@example.org", "Administrator", "admin", "solicitor"),
)


async def make_instance(
    data_dir: Path,
    database_url: str | None,
    *,
    seed: bool = True,
    environ: dict[str, str] | None = None,
) -> Instance:
    """An initialised instance whose runtime reads a clock the test can move."""
    settings = load_settings({**quietline_environ(data_dir, database_url), **(environ or {})})
    instance.prepare(settings)
    clock = SettableClock()
    runtime = open_runtime(settings)
    runtime.clock = clock
    await instance.initialise(runtime)
    made = Instance(settings=settings, runtime=runtime, clock=clock)
    if not seed:
        return made
    await install_test_ceremony(made)
    async with db.transaction(runtime.sessions) as session:
        for email, name, role, group in SEED_STAFF:
            staff, unlocked = await keyring.create_staff(
                session,
                settings,
                email=email,
                name=name,
                role=role,
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
    return made


# Custodian roles as a city might name them: the alternate group's are not the default group's.
TEST_CUSTODIANS = {
    "solicitor": ("city-solicitor", "deputy-solicitor", "city-clerk"),
    "alternate": ("city-auditor", "council-chair", "city-clerk"),
}


async def install_test_ceremony(made: Instance) -> None:
    """The key ceremony's outcome, installed: a root key and each group's recovery key, kept
    whole by the test (no shares: splitting costs time and is tested where it matters)."""
    settings, runtime = made.settings, made.runtime
    root = crypto.generate_signing_keypair()
    pairs = {
        group: crypto.generate_keypair()
        for group in (settings.default_group, settings.alternate_group)
    }
    split = {
        group: SplitKey(
            public=pair.public,
            shares=(),
            plan=CustodianPlan(TEST_CUSTODIANS.get(group, ("custodian-1", "custodian-2")), 2),
        )
        for group, pair in pairs.items()
    }
    await installation.install(
        runtime,
        root_public=root.public,
        recovery={group: pair.public for group, pair in pairs.items()},
        genesis=genesis_entries(root.private, split),
    )
    runtime.secrets = datadir.load_or_create_secrets(settings)
    made.root_private = root.private
    made.recovery_privates = {group: pair.private for group, pair in pairs.items()}
    made.recovery_private = pairs[settings.default_group].private


async def approve_pending_as_root(made: Instance) -> int:
    """Sign every pending directory change with the root key; how many took effect."""
    runtime = made.runtime
    async with runtime.sessions() as session:
        pending = [change.id for change in await directory.pending_changes(session)]
    applied = 0
    for change_id in pending:
        async with db.transaction(runtime.sessions) as session:
            outcome = await holders.approve_change(
                session, runtime, change_id, signer=ROOT, signing_private=made.root_private
            )
        applied += outcome == "applied"
    return applied


async def set_labels(made: Instance, labels: dict[str, str | None]) -> None:
    """Give staff (by email) the exclusion labels reporters see, as the directory would: each
    change proposed and signed by the root."""
    runtime = made.runtime
    async with db.transaction(runtime.sessions) as session:
        for email, label in labels.items():
            person = await keyring.staff_by_email(session, email)
            assert person is not None, email
            await membership.propose_update(
                session,
                runtime,
                person,
                role=person.role,
                group=person.group_name,
                label=label,
                proposer="cli",
            )
    await approve_pending_as_root(made)
