"""Preparing a Quietline instance for the benchmarks, in-process, before its server starts.

Staff keys are real: three officers of the receiving group (each report is
sealed to them and to the group's recovery key, as with ``tests/conftest.py``'s
seed), all with Argon2id at the default cost, since that is what a sign-in
pays in production. The key ceremony is installed and each officer's directory
entry signed by the root, as in production (routing reads the verified directory).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

from intake.accounts import enrolment, instance, keyring
from intake.config import Settings, load_settings
from intake.runtime import open_runtime
from intake.storage import db

OFFICERS = (
    ("officer1@bench.example", "Officer One"),
    ("officer2@bench.example", "Officer Two"),
    ("officer3@bench.example", "Officer Three"),
)


@dataclass
class SeededInstance:
    settings: Settings
    environ: dict[str, str]
    password: str
    totp_secrets: dict[str, str] = field(default_factory=dict)
    staff_ids: dict[str, str] = field(default_factory=dict)


def bench_environ(data_dir: Path, database_url: str | None) -> dict[str, str]:
    """The server's environment: defaults, except what a loopback benchmark must change.

    Mail keeps its defaults: notices wait a random delay (up to 15 minutes) and are batched
    per recipient, so the outbox gains a row per officer and no email leaves during a run.
    """
    environ = {
        "QUIETLINE_DATA_DIR": str(data_dir),
        # Plain http on loopback: the staff cookie must not be Secure-only.
        "QUIETLINE_DEV": "1",
        # Rate limits off (0): the benchmark measures capacity, not the limiter.
        "QUIETLINE_RATE_SUBMISSIONS": "0",
        "QUIETLINE_RATE_LOOKUPS": "0",
        "QUIETLINE_RATE_SIGNINS": "0",
    }
    if database_url:
        environ["QUIETLINE_DATABASE_URL"] = database_url
    return environ


async def seed_instance(data_dir: Path, database_url: str | None) -> SeededInstance:
    environ = bench_environ(data_dir, database_url)
    settings = load_settings(environ)
    instance.prepare(settings)
    runtime = open_runtime(settings)
    seeded = SeededInstance(settings=settings, environ=environ, password=secrets.token_urlsafe(18))
    try:
        await instance.initialise(runtime)
        ceremony = await instance.install_demo_ceremony(runtime)
        async with db.transaction(runtime.sessions) as session:
            for email, name in OFFICERS:
                staff, unlocked = await keyring.create_staff(
                    session,
                    settings,
                    email=email,
                    name=name,
                    role="officer",
                    group=settings.default_group,
                    password=seeded.password,
                )
                seeded.totp_secrets[email] = unlocked.totp_secret
                await session.flush()
                seeded.staff_ids[email] = staff.id
                await enrolment.propose_member(
                    session, staff, root_public=ceremony.root.public, proposer="cli"
                )
        await instance.approve_all(runtime, instance.root_of(ceremony))
    finally:
        await runtime.close()
    return seeded
