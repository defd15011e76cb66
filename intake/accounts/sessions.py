"""Staff sign-in and sessions (SECURITY.md, "Staff sessions").

At sign-in the password unlocks the staff member's private key (Argon2id, in a
worker thread behind a small limiter). The key is then wrapped under a fresh
random session key and stored in a ``StaffSession`` row; the session key and
the random session id live only in the signed cookie, and the row is found by
the SHA-256 of the id. So a copy of the database holds no usable private key,
and any app process can serve any session. Nothing about a session is kept in
process memory; the count of recent failed sign-ins is in ``runtime.limits``
(shared by every process on PostgreSQL).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pyotp
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import and_, case, delete, literal, null, or_, select, text, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

import crypto
from intake import throttle
from intake.accounts import keyring
from intake.errors import InvalidInput, NotSignedIn, SignInFailed, TooManyAttempts
from intake.i18n import N_
from intake.operations import audit
from intake.runtime import Runtime
from intake.storage import db
from intake.storage.db import UTCDateTime
from intake.storage.models import Staff, StaffSession

COOKIE_SALT = "quietline/staff-session/v1"
TOTP_STEP_SECONDS = 30
TOUCH_EVERY = timedelta(seconds=60)  # last_seen is written at most once a minute
SIGN_IN_FAILED = N_(
    "Sign-in failed: the email, password or six-digit code is not right. "
    "Each code works only once: if you just used it, wait for the next one."
)
SESSION_ENDED = N_("Please sign in: your session has ended or you are not signed in.")
NO_SIGNING_KEY = N_(
    "Your account has no signing key yet: change your password once to make one, then sign "
    "in again."
)


@dataclass(frozen=True)
class SignedIn:
    """A staff member with a live session. ``private_key`` never leaves the request."""

    staff: Staff
    session_id: str
    csrf: str
    private_key: bytes = field(repr=False)
    # None for an account made before signing keys, until its next password change or reset.
    signing_key: bytes | None = field(default=None, repr=False)

    @property
    def actor(self) -> str:
        return self.staff.email

    def sign(self, message: bytes, *, purpose: str) -> bytes:
        """This officer's Ed25519 signature of ``message`` for ``purpose``."""
        if self.signing_key is None:
            raise InvalidInput(NO_SIGNING_KEY)
        return crypto.sign(self.signing_key, message, purpose=purpose)


@dataclass(frozen=True)
class NewSession:
    cookie: str = field(repr=False)
    csrf: str = field(repr=False)
    staff: Staff


def _serializer(runtime: Runtime) -> URLSafeSerializer:
    return URLSafeSerializer(runtime.secrets.session_key, salt=COOKIE_SALT)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _session_row_id(session_id: bytes) -> str:
    return hashlib.sha256(session_id).hexdigest()


def _wrap_context(row_id: str) -> str:
    return f"session:{row_id}"


def totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code matches (one step of clock drift either way), else None."""
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // TOTP_STEP_SECONDS
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.at(step * TOTP_STEP_SECONDS), code):
            return step
    return None


_dummy_credentials: dict[tuple[int, int], bytes] = {}


async def _spend_like_a_sign_in(runtime: Runtime, password: str) -> None:
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


async def _reserve_attempt(runtime: Runtime, staff_id: str) -> Attempt | datetime:
    """Count an attempt on the account before its password is checked; the lock, if locked.

    One statement reserves the attempt and checks the lock together, so concurrent
    attempts each take their own place: once ``login_max_failures`` are reserved, the
    account is locked and the next attempt is refused without a derivation, however
    many arrive at once. An attempt that succeeds clears the count (``_open_session``,
    ``change_password``); one that fails leaves its place taken. A lock that has
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


def _lock_minutes(until: datetime, now: datetime) -> dict[str, int]:
    """The parameters of a lockout's refusal: its minutes left, and Retry-After in seconds."""
    minutes = _minutes_left(until, now)
    return {"minutes": minutes, "retry_after": minutes * 60}


async def _record_failure(
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


async def _slow_down_strangers(runtime: Runtime, on_staff_network: bool) -> None:
    """Past the global count of failed sign-ins, a sign-in from outside the staff networks
    waits before anything is checked: strangers guessing across accounts are slowed down,
    while nobody is refused and staff on an allowed network never wait."""
    per_minute = runtime.settings.login_global_failures_per_minute
    if on_staff_network or per_minute <= 0 or runtime.settings.login_slowdown_seconds <= 0:
        return
    if await runtime.limits.exhausted(throttle.SIGN_IN_FAILURES, per_minute):
        await runtime.clock.sleep(runtime.settings.login_slowdown_seconds)


async def sign_in(
    runtime: Runtime,
    *,
    email: str,
    password: str,
    totp_code: str,
    on_staff_network: bool = False,
) -> NewSession:
    """Check password and TOTP code; open a session. Raises SignInFailed or TooManyAttempts.

    ``on_staff_network``: the request came from one of ``QUIETLINE_STAFF_NETWORKS``, so the
    global slowdown does not apply to it."""
    await _slow_down_strangers(runtime, on_staff_network)
    staff = None
    if len(email) <= 254 and email.isprintable():
        async with runtime.sessions() as session:
            staff = await keyring.staff_by_email(session, email)
    attempt = None
    if staff is not None:
        reserved = await _reserve_attempt(runtime, staff.id)
        if isinstance(reserved, datetime):
            raise TooManyAttempts(
                N_(
                    "Too many failed sign-ins for this account. Try again in %(minutes)s "
                    "minutes, or ask an administrator."
                ),
                **_lock_minutes(reserved, runtime.now()),
            )
        attempt = reserved
    if staff is None or not staff.active:
        await _spend_like_a_sign_in(runtime, password)
        await _record_failure(runtime, None, "unknown or disabled account")
        raise SignInFailed(SIGN_IN_FAILED)
    try:
        unlocked = await keyring.unlock_staff_secrets(staff.credential, password)
    except crypto.WrongPassword:
        await _record_failure(runtime, staff, "wrong password", attempt)
        raise SignInFailed(SIGN_IN_FAILED) from None
    step = totp_step(unlocked.totp_secret, totp_code, runtime.now())
    if step is None:
        await _record_failure(runtime, staff, "wrong code", attempt)
        raise SignInFailed(SIGN_IN_FAILED)
    opened = await _open_session(runtime, staff, unlocked, step)
    if opened is None:
        await _record_failure(runtime, staff, "code used already", attempt)
        raise SignInFailed(SIGN_IN_FAILED)
    return opened


def _session_keys(unlocked: keyring.StaffSecrets) -> bytes:
    """What a session row holds wrapped: the X25519 private key, then the signing key if any."""
    return unlocked.private_key + (unlocked.signing_key or b"")


def _split_session_keys(keys: bytes) -> tuple[bytes, bytes | None]:
    return keys[:32], (keys[32:64] if len(keys) == 64 else None)


async def _open_session(
    runtime: Runtime, staff: Staff, unlocked: keyring.StaffSecrets, step: int
) -> NewSession | None:
    """Spend the TOTP step and store the session; None when the step was spent already."""
    session_id, session_key = secrets.token_bytes(32), secrets.token_bytes(32)
    row_id = _session_row_id(session_id)
    csrf = secrets.token_urlsafe(32)
    now = runtime.now()
    settings = runtime.settings
    async with db.transaction(runtime.sessions) as session:
        connection = await session.connection()
        spent = await connection.execute(
            text(
                "UPDATE staff SET totp_last_step = :step, failed_logins = 0, locked_until = NULL "
                "WHERE id = :id AND totp_last_step < :step AND active"
            ),
            {"step": step, "id": staff.id},
        )
        if spent.rowcount != 1:  # type: ignore[attr-defined]
            return None
        await _delete_ended_sessions(session, runtime, now)
        session.add(
            StaffSession(
                id=row_id,
                staff_id=staff.id,
                wrapped_key=crypto.wrap_key(
                    session_key, _session_keys(unlocked), context=_wrap_context(row_id)
                ),
                csrf=csrf,
                created_at=now,
                last_seen=now,
                expires_at=now + timedelta(hours=settings.session_hours),
            )
        )
        await audit.record(session, actor=staff.email, action="staff.sign_in")
    cookie = _serializer(runtime).dumps([_b64(session_id), _b64(session_key)])
    return NewSession(cookie=cookie, csrf=csrf, staff=staff)


def _parse_cookie(runtime: Runtime, cookie: str) -> tuple[bytes, bytes]:
    try:
        parts = _serializer(runtime).loads(cookie)
        if not isinstance(parts, list) or len(parts) != 2:
            raise NotSignedIn(SESSION_ENDED)
        session_id, session_key = (base64.urlsafe_b64decode(str(part)) for part in parts)
    except (BadSignature, binascii.Error, ValueError) as exc:
        raise NotSignedIn(SESSION_ENDED) from exc
    if len(session_id) != 32 or len(session_key) != 32:
        raise NotSignedIn(SESSION_ENDED)
    return session_id, session_key


def _ended(row: StaffSession, runtime: Runtime, now: datetime) -> NotSignedIn | None:
    """Why a session is over (too old, or idle too long), or None while it lasts."""
    if now >= row.expires_at:
        return NotSignedIn(
            N_("Please sign in again: sessions last at most %(hours)s hours."),
            hours=runtime.settings.session_hours,
        )
    idle = timedelta(minutes=runtime.settings.session_idle_minutes)
    if now - row.last_seen > idle:
        return NotSignedIn(
            N_(
                "Please sign in again: you were signed out after %(minutes)s minutes "
                "without activity."
            ),
            minutes=runtime.settings.session_idle_minutes,
        )
    return None


async def authenticate(runtime: Runtime, cookie: str | None) -> SignedIn:
    """The signed-in staff member of this cookie; raises NotSignedIn otherwise."""
    if not cookie:
        raise NotSignedIn(SESSION_ENDED)
    session_id, session_key = _parse_cookie(runtime, cookie)
    row_id = _session_row_id(session_id)
    now = runtime.now()
    async with runtime.sessions() as session:
        row = await session.get(StaffSession, row_id)
        staff = await session.get(Staff, row.staff_id) if row is not None else None
    if row is None or staff is None:
        raise NotSignedIn(SESSION_ENDED)
    ended = _ended(row, runtime, now)
    if ended is not None or not staff.active:
        await _delete_session(runtime, row_id)
        raise ended or NotSignedIn(SESSION_ENDED)
    try:
        keys = crypto.unwrap_key(session_key, row.wrapped_key, context=_wrap_context(row_id))
    except crypto.DecryptionError as exc:
        raise NotSignedIn(SESSION_ENDED) from exc
    private_key, signing_key = _split_session_keys(keys)
    if now - row.last_seen > TOUCH_EVERY:
        async with db.transaction(runtime.sessions) as session:
            connection = await session.connection()
            await connection.execute(
                text("UPDATE staffsession SET last_seen = :now WHERE id = :id"),
                {"now": now, "id": row_id},
            )
    return SignedIn(
        staff=staff,
        session_id=row_id,
        csrf=row.csrf,
        private_key=private_key,
        signing_key=signing_key,
    )


async def _delete_ended_sessions(session: AsyncSession, runtime: Runtime, now: datetime) -> None:
    """Sessions left to expire (never signed out) are removed at the next sign-in of anyone."""
    idle = timedelta(minutes=runtime.settings.session_idle_minutes)
    await session.exec(
        delete(StaffSession).where(  # type: ignore[call-overload]
            (col(StaffSession.expires_at) <= now) | (col(StaffSession.last_seen) < now - idle)
        )
    )


async def _delete_session(runtime: Runtime, row_id: str) -> None:
    async with db.transaction(runtime.sessions) as session:
        await session.exec(delete(StaffSession).where(StaffSession.id == row_id))  # type: ignore[call-overload]


async def sign_out(runtime: Runtime, signed_in: SignedIn) -> None:
    async with db.transaction(runtime.sessions) as session:
        await session.exec(
            delete(StaffSession).where(StaffSession.id == signed_in.session_id)  # type: ignore[call-overload]
        )
        await audit.record(session, actor=signed_in.actor, action="staff.sign_out")


async def end_all_sessions(
    session: AsyncSession, staff_id: str, *, keep: str | None = None
) -> None:
    """Delete a staff member's sessions (all but ``keep``) inside the caller's transaction."""
    statement = delete(StaffSession).where(StaffSession.staff_id == staff_id)  # type: ignore[arg-type]
    if keep is not None:
        statement = statement.where(StaffSession.id != keep)  # type: ignore[arg-type]
    await session.exec(statement)  # type: ignore[call-overload]


async def change_password(runtime: Runtime, signed_in: SignedIn, *, current: str, new: str) -> None:
    """Re-lock the private keys and TOTP secret under the new password; end other sessions.

    The current password is checked as at sign-in: the attempt is reserved on the account
    first, so wrong guesses lock it after ``login_max_failures`` (a lock also ends every
    session of the account: a stolen or unattended session cannot keep guessing), and
    each attempt is audited, without the passwords. An account made before signing keys
    gets its signing key pair here."""
    keyring.validate_password(new)
    if new == current:
        raise InvalidInput(N_("The new password must differ from the current one."), field="new")
    reserved = await _reserve_attempt(runtime, signed_in.staff.id)
    if isinstance(reserved, datetime):
        raise TooManyAttempts(
            N_(
                "Too many wrong passwords were tried for this account, so it is locked. Try "
                "again in %(minutes)s minutes, or ask an administrator."
            ),
            **_lock_minutes(reserved, runtime.now()),
        )
    try:
        unlocked = await keyring.unlock_staff_secrets(signed_in.staff.credential, current)
    except crypto.WrongPassword:
        await _password_change_failed(runtime, signed_in, reserved)
        raise InvalidInput(N_("The current password is not right."), field="current") from None
    unlocked, signing_public = unlocked.with_signing_key()
    credential = await keyring.lock_staff_secrets(runtime.settings, new, unlocked)
    async with db.transaction(runtime.sessions) as session:
        staff = await session.get(Staff, signed_in.staff.id)
        assert staff is not None
        staff.credential = credential
        staff.failed_logins = 0
        staff.locked_until = None
        if signing_public is not None:
            staff.signing_public = signing_public
        session.add(staff)
        await end_all_sessions(session, staff.id, keep=signed_in.session_id)
        await audit.record(session, actor=signed_in.actor, action="staff.password_changed")


async def _password_change_failed(runtime: Runtime, signed_in: SignedIn, attempt: Attempt) -> None:
    """Audit a wrong current password; when it locks the account, end all its sessions."""
    async with db.transaction(runtime.sessions) as session:
        detail: dict[str, str | int] = {"reason": "wrong password"}
        if attempt.locks:
            detail["locked_minutes"] = runtime.settings.login_lock_minutes
            await end_all_sessions(session, signed_in.staff.id)
        await audit.record(
            session, actor=signed_in.actor, action="staff.password_change_failed", detail=detail
        )
