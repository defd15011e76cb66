"""A migrated, seeded Quietline instance in-process, and the environment of one under test."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from intake.accounts import instance, keyring
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
    recovery_private: bytes = b""


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
    async with db.transaction(runtime.sessions) as session:
        _, made.recovery_private = await keyring.create_recovery_key(session)
        for email, name, role, group in SEED_STAFF:
            _, unlocked = await keyring.create_staff(
                session,
                settings,
                email=email,
                name=name,
                role=role,
                group=group,
                password=PASSWORD,
            )
            made.staff_passwords[email] = PASSWORD
            made.staff_private[email] = unlocked.private_key
            made.totp_secrets[email] = unlocked.totp_secret
    return made
