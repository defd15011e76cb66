"""Setting up an instance: the data directory, its secrets, the schema and default data."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

import anyio.to_thread
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

import crypto
from intake import datadir
from intake.accounts import directory, installation
from intake.accounts.administration import Account, create_account
from intake.accounts.ceremony import (
    DEFAULT_CUSTODIANS,
    DEFAULT_THRESHOLD,
    CeremonyResult,
    CustodianPlan,
    run_ceremony,
)
from intake.accounts.directory_rules import ROOT
from intake.casework import holders, questionnaires
from intake.config import ConfigError, Settings
from intake.operations import audit
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
    if not await db.schema_is_current(runtime.engine):
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
        category_ids = (await session.exec(select(Category.id))).all()
        seeded = await questionnaires.seed_builtin(session, category_ids, today=runtime.today())
        if seeded:
            created.append(f"{seeded} built-in questionnaires")
    await audit.note_unkeyed_prefix(runtime)
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


# Every role and both groups, and two officers a reporter may exclude by their label, so a first
# look shows the whole form and every kind of page.
DEMO_STAFF = (
    Account("officer@example.org", "Olivia Officer", "officer", "solicitor", "City Solicitor"),
    Account(
        "officer2@example.org", "Omar Officer", "officer", "solicitor", "Deputy City Solicitor"
    ),
    Account("investigator@example.org", "Ines Investigator", "investigator", "solicitor"),
    Account("alternate@example.org", "Alex Alternate", "officer", "alternate"),
    Account("admin@example.org", "Ada Admin", "admin", "solicitor"),
    # Decides officers' requests to open a confidential reporter's identity; holds no case.
    Account("custodian@example.org", "Cai Custodian", "custodian", "solicitor"),
)


@dataclass(frozen=True)
class Demo:
    """What the demo made: a line for each account (with its secrets) and the ceremony, whose
    shares are printed once and saved nowhere."""

    staff: list[str]
    ceremony: CeremonyResult
    approved: int


def demo_ceremony(settings: Settings) -> CeremonyResult:
    """The key ceremony with its default custodians (numbered), as ``keys ceremony`` makes it."""
    groups = [settings.default_group, settings.alternate_group]

    def plan(prefix: str) -> CustodianPlan:
        return CustodianPlan.numbered(DEFAULT_CUSTODIANS, DEFAULT_THRESHOLD, f"{prefix}-custodian")

    return run_ceremony(
        groups,
        {group: plan(group) for group in groups},
        plan(ROOT),
        default_group=settings.default_group,
        alternate_group=settings.alternate_group,
    )


async def seed_demo(runtime: Runtime) -> Demo:
    """A first look on one machine: the key ceremony installed here (as ``keys ceremony
    --install`` does), demo staff, and their directory entries approved with the root's shares.

    Every secret is returned to be printed once; none is saved. In production the ceremony runs
    offline and the root's custodians approve each entry themselves.
    """
    ceremony = await install_demo_ceremony(runtime)
    root_public = ceremony.root.public
    lines = []
    async with db.transaction(runtime.sessions) as session:
        for person in DEMO_STAFF:
            password = secrets.token_urlsafe(12)
            made = await create_account(
                session, runtime.settings, person, password, root_public=root_public
            )
            lines.append(
                f"staff {person.email} ({person.role}, group {person.group}): "
                f"password {password}  TOTP secret {made.totp_secret}"
            )
    return Demo(
        staff=lines, ceremony=ceremony, approved=await approve_all(runtime, root_of(ceremony))
    )


async def install_demo_ceremony(runtime: Runtime) -> CeremonyResult:
    """The demo's key ceremony, installed on this machine (root pinned, directory begun)."""
    ceremony = demo_ceremony(runtime.settings)
    await installation.install(
        runtime,
        root_public=ceremony.root.public,
        recovery={group: key.public for group, key in ceremony.recovery.items()},
        genesis=ceremony.genesis,
    )
    runtime.secrets = datadir.load_or_create_secrets(runtime.settings)  # the root is pinned now
    return ceremony


def root_of(ceremony: CeremonyResult) -> bytes:
    """The root's private key, put together from the ceremony's shares (a demo's only)."""
    return crypto.combine_shares(list(ceremony.root.shares[: ceremony.root.plan.threshold]))


async def approve_all(runtime: Runtime, root_private: bytes) -> int:
    """Sign every pending directory change as the root, each in its own transaction."""
    async with runtime.sessions() as session:
        pending = [change.id for change in await directory.pending_changes(session)]
    applied = 0
    for change_id in pending:
        outcome = await holders.approve_as_root(runtime, change_id, root_private, actor="demo")
        applied += outcome == "applied"
    return applied
