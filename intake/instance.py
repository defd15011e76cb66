"""Setting up an instance: the data directory, its secrets, the schema and default data."""

from __future__ import annotations

import secrets

import anyio.to_thread
from sqlmodel import select

from intake import datadir, db, keyring
from intake.config import Settings
from intake.models import Category, Staff
from intake.runtime import Runtime


async def initialise(runtime: Runtime) -> list[str]:
    """Create what a fresh instance lacks; return a line for each thing created."""
    created: list[str] = []
    await anyio.to_thread.run_sync(db.migrate, runtime.settings)
    async with db.transaction(runtime.sessions) as session:
        if (await session.exec(select(Category))).first() is None:
            session.add_all(
                Category(id=ident, label=label, position=index)
                for index, (ident, label) in enumerate(runtime.settings.categories)
            )
            created.append(f"{len(runtime.settings.categories)} report categories")
    return created


def prepare(settings: Settings) -> None:
    datadir.prepare(settings.data_dir)
    datadir.load_or_create_secrets(settings)


async def is_empty(runtime: Runtime) -> bool:
    """True when no staff member exists yet (a fresh instance)."""
    async with runtime.sessions() as session:
        return (await session.exec(select(Staff))).first() is None


DEMO_STAFF = (
    ("officer@example.org", "Olivia Officer", "officer", "solicitor"),
    ("officer2@example.org", "Omar Officer", "officer", "solicitor"),
    ("alternate@example.org", "Alex Alternate", "officer", "alternate"),
    ("admin@example.org", "Ada Admin", "admin", "solicitor"),
)


async def seed_demo(runtime: Runtime) -> list[str]:
    """Demo staff and a recovery key for a first look; every secret is printed, none saved."""
    lines = []
    async with db.transaction(runtime.sessions) as session:
        _, recovery_private = await keyring.create_recovery_key(session)
        for email, name, role, group in DEMO_STAFF:
            password = secrets.token_urlsafe(12)
            staff, unlocked = await keyring.create_staff(
                session,
                runtime.settings,
                email=email,
                name=name,
                role=role,
                group=group,
                password=password,
            )
            lines.append(
                f"staff {email} ({role}, group {group}): password {password}  "
                f"TOTP secret {unlocked.totp_secret}"
            )
    lines.append(
        "office recovery key (demo only; in production generate it offline with "
        f"'quietline keys recovery'): {keyring.format_recovery_key(recovery_private)}"
    )
    return lines
