"""How sign-in attempts are limited (SECURITY.md, "Staff sessions"): an account locks after
``login_max_failures`` wrong attempts in a row; past a global count of failures a minute, a
sign-in from outside the staff networks waits first; an unknown or disabled account costs the
same derivation as a real one; and every failure is audited.

The per-account count is in the staff row, reserved before the password is checked, so
concurrent attempts cannot overrun it; the global count is in ``runtime.limits`` (shared by
every process on PostgreSQL).
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, literal, null, or_, select, update
from sqlmodel import col

import crypto
from intake import throttle
from intake.accounts import keyring
from intake.operations import audit
from intake.runtime import Runtime
from intake.storage import db
from intake.storage.db import UTCDateTime
from intake.storage.models import Staff

_dummy_credentials: dict[tuple[int, int], bytes] = {}


async def spend_like_a_sign_in(runtime: Runtime, password: str) -> None:
    """Derive once for an unknown or disabled account, so timing does not tell them apart."""
    cost = keyring.password_cost(runtime.settings)
    cache_key = (cost.iterations, cost.memory_kib)
    if cache_key not in _dummy_credentials:
        _dummy_credentials[cache_key] = await keyring.lock_staff_secrets(
            runtime.settings,
            secrets.token_urlsafe(16),
            keyring.StaffSecrets(private_key=bytes(32), totp_secret="A" * 32),
        )
    try:
        await keyring.unlock_staff_secrets(_dummy_credentials[cache_key], password)
    except crypto.WrongPassword:
        pass


def _minutes_left(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds() / 60))


@dataclass(frozen=True)
class Attempt:
    """A password attempt reserved on an account: its place among the failures in a row."""

    failures: int
    locks: bool  # this attempt took the last place: should it fail, the account stays locked


async def reserve_attempt(runtime: Runtime, staff_id: str) -> Attempt | datetime:
    """Count an attempt on the account before its password is checked; the lock, if locked.

    One statement reserves the attempt and checks the lock together, so concurrent
    attempts each take their own place: once ``login_max_failures`` are reserved, the
    account is locked and the next attempt is refused without a derivation, however
    many arrive at once. An attempt that succeeds clears the count (``sessions``: opening a
    session, changing the password); one that fails leaves its place taken. A lock that has
    expired starts the count again.
    """
    settings = runtime.settings
    now = runtime.now()
    until = now + timedelta(minutes=settings.login_lock_minutes)
    locked_until = col(Staff.locked_until)
    expired = and_(locked_until.is_not(None), locked_until <= now)
    count = case((expired, 1), else_=col(Staff.failed_logins) + 1)
    reserve = (
        update(Staff)
        .where(col(Staff.id) == staff_id, or_(locked_until.is_(None), locked_until <= now))
        .values(
            failed_logins=count,
            locked_until=case(
                (count >= settings.login_max_failures, literal(until, UTCDateTime())),
                (expired, null()),
                else_=locked_until,
            ),
        )
        .returning(col(Staff.failed_logins))
    )
    async with db.transaction(runtime.sessions) as session:
        connection = await session.connection()
        failures = (await connection.execute(reserve)).scalar_one_or_none()
        if failures is not None:
            return Attempt(failures=failures, locks=failures >= settings.login_max_failures)
        held = (
            await connection.execute(select(locked_until).where(col(Staff.id) == staff_id))
        ).scalar_one_or_none()
    return held if held is not None else until


def lock_parameters(until: datetime, now: datetime) -> dict[str, int]:
    """The parameters of a lockout's refusal: its minutes left, and Retry-After in seconds."""
    minutes = _minutes_left(until, now)
    return {"minutes": minutes, "retry_after": minutes * 60}


async def record_failure(
    runtime: Runtime, staff: Staff | None, reason: str, attempt: Attempt | None = None
) -> None:
    """Audit a failed sign-in and count it towards the global protection.

    The account's own count was taken when the attempt was reserved."""
    per_minute = runtime.settings.login_global_failures_per_minute
    if per_minute > 0:
        await runtime.limits.take(throttle.SIGN_IN_FAILURES, per_minute)
    async with db.transaction(runtime.sessions) as session:
        detail: dict[str, str | int] = {"reason": reason}
        if attempt is not None and attempt.locks:
            detail["locked_minutes"] = runtime.settings.login_lock_minutes
        await audit.record(
            session,
            actor=staff.email if staff is not None else "unknown",
            action="staff.sign_in_failed",
            detail=detail,
        )


async def slow_down_strangers(runtime: Runtime, on_staff_network: bool) -> None:
    """Past the global count of failed sign-ins, a sign-in from outside the staff networks
    waits before anything is checked: strangers guessing across accounts are slowed down,
    while nobody is refused and staff on an allowed network never wait."""
    per_minute = runtime.settings.login_global_failures_per_minute
    if on_staff_network or per_minute <= 0 or runtime.settings.login_slowdown_seconds <= 0:
        return
    if await runtime.limits.exhausted(throttle.SIGN_IN_FAILURES, per_minute):
        await runtime.clock.sleep(runtime.settings.login_slowdown_seconds)
