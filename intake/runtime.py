"""What a running Quietline needs at hand: settings, server secrets and the database."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import HTTPConnection

from intake.config import Settings
from intake.datadir import AuditSecrets, ServerSecrets, load_or_create_secrets, unkeyed_events
from intake.deadlines import DeadlineRules
from intake.storage import db
from intake.storage.limits import DatabaseLimits
from intake.throttle import Limits, LocalLimits

AUDIT_INFO = "quietline.audit"
"""The key of :class:`AuditAnchors` in every database session's ``info``."""


@dataclass
class AuditAnchors:
    """What the audit log needs beside the database: the keys of its chain and checkpoints
    (server secrets, never in the database), the witness file checkpoints are appended to, and
    how many events the log held from before its keyed chain (recorded in the server secrets
    on the first start with keys; None until then).

    Every database session of a runtime carries it in ``session.info``, so that
    ``operations.audit.record`` keeps the signature all its callers use.
    """

    secrets: AuditSecrets
    witness_file: Path | None
    unkeyed_events: int | None = None


class Clock(Protocol):
    """Where the service reads the time: sign-in codes, sessions, lockouts and the day."""

    def now(self) -> datetime:
        """The current moment, as an aware UTC datetime."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait this long (the sign-in slowdown waits here)."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@dataclass
class Runtime:
    settings: Settings
    secrets: ServerSecrets
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    rules: DeadlineRules
    # The rate limits and the sign-in failure count: in this process's memory on SQLite (one
    # process), in the database on PostgreSQL, where every process must draw on the same figures.
    limits: Limits
    # Group-commit writers by what they write (intake/storage/batching.py), made on first use.
    batchers: dict[str, Any] = field(default_factory=dict)
    # Replaceable so that tests can set the time instead of waiting for it.
    clock: Clock = field(default_factory=SystemClock)
    # The audit log's keys and witness file; the same object every database session carries.
    audit: AuditAnchors | None = None

    def now(self) -> datetime:
        """The current moment (aware, UTC), from the runtime's clock."""
        return self.clock.now()

    def today(self) -> date:
        """The office's calendar day: the only time kept of a reporter's action."""
        return self.clock.now().astimezone(ZoneInfo(self.settings.timezone)).date()

    async def close(self) -> None:
        await self.engine.dispose()


def limits_for(engine: AsyncEngine) -> Limits:
    """Where the limits live: the database when it may be shared by several processes."""
    if engine.dialect.name == "postgresql":
        return DatabaseLimits(engine)
    return LocalLimits()


def open_runtime(settings: Settings) -> Runtime:
    """Create the engine and load secrets; the schema must already be migrated."""
    engine = db.create_engine(settings)
    secrets = load_or_create_secrets(settings)
    info = {}
    anchors = None
    if secrets.audit is not None:
        anchors = AuditAnchors(secrets.audit, settings.audit_witness_file, unkeyed_events(settings))
        info[AUDIT_INFO] = anchors
    return Runtime(
        settings=settings,
        secrets=secrets,
        engine=engine,
        sessions=db.session_factory(engine, info),
        rules=DeadlineRules.from_values(
            ack_days=settings.ack_days,
            feedback_months=settings.feedback_months,
            clock=settings.deadline_clock,
            holidays=settings.holidays,
        ),
        limits=limits_for(engine),
        audit=anchors,
    )


def runtime_of(connection: HTTPConnection) -> Runtime:
    """The runtime the app's lifespan opened."""
    runtime: Runtime = connection.app.state.runtime
    return runtime
