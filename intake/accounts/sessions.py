"""Staff sign-in and sessions (SECURITY.md, "Staff sessions").

At sign-in the password unlocks the staff member's private key (Argon2id, in a
worker thread behind a small limiter). The key is then wrapped under a fresh
random session key and stored in a ``StaffSession`` row; the session key and
the random session id live only in the signed cookie, and the row is found by
the SHA-256 of the id. So a copy of the database holds no usable private key,
and any app process can serve any session. Nothing about a session is kept in
process memory. How attempts are limited is ``intake.accounts.sign_in_limits``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pyotp
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, text
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

import crypto
from intake.accounts import keyring
from intake.accounts import sign_in_limits as limits
from intake.errors import InvalidInput, NotSignedIn, SignInFailed, TooManyAttempts
from intake.i18n import N_
from intake.numbers import is_digits
from intake.operations import audit
from intake.runtime import Runtime
from intake.storage import db
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
    if len(code) != 6 or not is_digits(code):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // TOTP_STEP_SECONDS
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.at(step * TOTP_STEP_SECONDS), code):
            return step
    return None


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
    await limits.slow_down_strangers(runtime, on_staff_network)
    staff = None
    if len(email) <= 254 and email.isprintable():
        async with runtime.sessions() as session:
            staff = await keyring.staff_by_email(session, email)
    attempt = None
    if staff is not None:
        reserved = await limits.reserve_attempt(runtime, staff.id)
        if isinstance(reserved, datetime):
            raise TooManyAttempts(
                N_(
                    "Too many failed sign-ins for this account. Try again in %(minutes)s "
                    "minutes, or ask an administrator."
                ),
                **limits.lock_parameters(reserved, runtime.now()),
            )
        attempt = reserved
    if staff is None or not staff.active:
        await limits.spend_like_a_sign_in(runtime, password)
        await limits.record_failure(runtime, None, "unknown or disabled account")
        raise SignInFailed(SIGN_IN_FAILED)
    try:
        unlocked = await keyring.unlock_staff_secrets(staff.credential, password)
    except crypto.WrongPassword:
        await limits.record_failure(runtime, staff, "wrong password", attempt)
        raise SignInFailed(SIGN_IN_FAILED) from None
    step = totp_step(unlocked.totp_secret, totp_code, runtime.now())
    if step is None:
        await limits.record_failure(runtime, staff, "wrong code", attempt)
        raise SignInFailed(SIGN_IN_FAILED)
    opened = await _open_session(runtime, staff, unlocked, step)
    if opened is None:
        await limits.record_failure(runtime, staff, "code used already", attempt)
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
    reserved = await limits.reserve_attempt(runtime, signed_in.staff.id)
    if isinstance(reserved, datetime):
        raise TooManyAttempts(
            N_(
                "Too many wrong passwords were tried for this account, so it is locked. Try "
                "again in %(minutes)s minutes, or ask an administrator."
            ),
            **limits.lock_parameters(reserved, runtime.now()),
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


async def _password_change_failed(
    runtime: Runtime, signed_in: SignedIn, attempt: limits.Attempt
) -> None:
    """Audit a wrong current password; when it locks the account, end all its sessions."""
    async with db.transaction(runtime.sessions) as session:
        detail: dict[str, str | int] = {"reason": "wrong password"}
        if attempt.locks:
            detail["locked_minutes"] = runtime.settings.login_lock_minutes
            await end_all_sessions(session, signed_in.staff.id)
        await audit.record(
            session, actor=signed_in.actor, action="staff.password_change_failed", detail=detail
        )
