"""Setting up an instance: the data directory, its secrets, the schema and default data."""

from __future__ import annotations

import json
import secrets

import anyio.to_thread
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

import crypto
from intake import datadir
from intake.accounts import keyring
from intake.accounts.administration import Account, create_account
from intake.config import ConfigError, Settings
from intake.runtime import Runtime
from intake.storage import db
from intake.storage.models import Category, Setting, Staff

PEPPER_CHECK_KEY = "token_pepper_check"


async def initialise(runtime: Runtime, *, migrate_in_child: bool = False) -> list[str]:
    """Create what a fresh instance lacks; return a line for each thing created.

    Raises ConfigError, changing nothing, when the server's token pepper is not the one this
    database's cases were filed with. ``migrate_in_child`` runs the migrations in a process
    of their own (for the server: see ``db.migrate_in_child``).
    """
    created: list[str] = []
    migrate = db.migrate_in_child if migrate_in_child else db.migrate
    await anyio.to_thread.run_sync(migrate, runtime.settings)
    async with db.transaction(runtime.sessions) as session:
        await _check_pepper(session, runtime)
        if (await session.exec(select(Category))).first() is None:
            session.add_all(
                Category(id=ident, label=label, position=index)
                for index, (ident, label) in enumerate(runtime.settings.categories)
            )
            created.append(f"{len(runtime.settings.categories)} report categories")
    return created


async def _check_pepper(session: AsyncSession, runtime: Runtime) -> None:
    """Refuse to run with a token pepper other than the database's: every token would fail.

    That happens after a restore without the server secrets (a new pepper is made when none is
    found) or with a mistyped ``QUIETLINE_TOKEN_PEPPER``. The database keeps only
    :func:`crypto.pepper_check` of the pepper, recorded on the first start.
    """
    expected = crypto.pepper_check(runtime.secrets.token_pepper).hex()
    stored = await session.get(Setting, PEPPER_CHECK_KEY)
    if stored is None:
        session.add(Setting(key=PEPPER_CHECK_KEY, value=json.dumps(expected)))
        return
    if json.loads(stored.value) != expected:
        raise ConfigError(
            "this server's token pepper is not the one this database's cases were filed with, "
            "so no reporter's token would open its case. Put back the server secrets that "
            f"belong to this database: {datadir.SECRETS_FILE} from its backup into "
            f"{runtime.settings.data_dir} (replacing the one there), or the original "
            "QUIETLINE_TOKEN_PEPPER. No data was changed."
        )


def prepare(settings: Settings) -> None:
    datadir.prepare(settings.data_dir)
    datadir.load_or_create_secrets(settings)


async def is_empty(runtime: Runtime) -> bool:
    """True when no staff member exists yet (a fresh instance)."""
    async with runtime.sessions() as session:
        return (await session.exec(select(Staff))).first() is None


DEMO_STAFF = (
    Account("officer@example.org", "Olivia Officer", "officer", "solicitor"),
    Account("officer2@example.org", "Omar Officer", "officer", "solicitor"),
    Account("alternate@example.org", "Alex Alternate", "officer", "alternate"),
    Account("admin@example.org", "Ada Admin", "admin", "solicitor"),
)


async def seed_demo(runtime: Runtime) -> list[str]:
    """Demo staff and a recovery key for a first look; every secret is printed, none saved."""
    lines = []
    async with db.transaction(runtime.sessions) as session:
        _, recovery_private = await keyring.create_recovery_key(session)
        for person in DEMO_STAFF:
            password = secrets.token_urlsafe(12)
            made = await create_account(session, runtime.settings, person, password)
            lines.append(
                f"staff {person.email} ({person.role}, group {person.group}): "
                f"password {password}  TOTP secret {made.totp_secret}"
            )
    lines.append(
        "office recovery key (demo only; in production generate it offline with "
        f"'quietline keys recovery'): {keyring.format_recovery_key(recovery_private)}"
    )
    return lines
