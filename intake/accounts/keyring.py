"""Staff key pairs, recovery keys as text, and sealing a case key to its holders.

Password hashing is CPU-heavy (Argon2id), so it runs in a few worker threads
of lower CPU priority and never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

import pyotp
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

import crypto
from intake.casework.routing import Recipients
from intake.casework.vocabulary import Role
from intake.config import Settings
from intake.config_fields import key_as_text, key_from_text
from intake.errors import InvalidInput
from intake.i18n import N_
from intake.storage.models import CaseKey, RecoveryKey, Staff

CASE_KEY_PURPOSE = "case-key"
TOTP_SECRET_LENGTH = 32  # base32 characters: 160 bits
T = TypeVar("T")


def password_cost(settings: Settings) -> crypto.PasswordCost:
    return crypto.PasswordCost(
        iterations=settings.password_iterations, memory_kib=settings.password_memory_kib
    )


# What a password unlocks, packed. Version 1 (accounts made before signing keys) is the X25519
# private key and the TOTP secret, 64 bytes, no version byte; version 2 starts with the byte 2 and
# adds the Ed25519 signing private key: 97 bytes. The lengths tell them apart.
_V1_LENGTH = 32 + TOTP_SECRET_LENGTH
_V2 = b"\x02"


@dataclass(frozen=True)
class StaffSecrets:
    """What a staff member's password unlocks. ``signing_key`` is None for an account made
    before signing keys, until its next password change or reset."""

    private_key: bytes
    totp_secret: str
    signing_key: bytes | None = None

    def pack(self) -> bytes:
        totp = self.totp_secret.encode("ascii")
        if self.signing_key is None:
            return self.private_key + totp
        return _V2 + self.private_key + self.signing_key + totp

    @classmethod
    def unpack(cls, secret: bytes) -> StaffSecrets:
        if len(secret) == _V1_LENGTH:
            return cls(private_key=secret[:32], totp_secret=secret[32:].decode("ascii"))
        if secret[:1] != _V2 or len(secret) <= 65:
            raise ValueError("unknown staff secrets format")
        return cls(
            private_key=secret[1:33],
            signing_key=secret[33:65],
            totp_secret=secret[65:].decode("ascii"),
        )

    def with_signing_key(self) -> tuple[StaffSecrets, bytes | None]:
        """These secrets with a signing key, and the new public half if one had to be made."""
        if self.signing_key is not None:
            return self, None
        pair = crypto.generate_signing_keypair()
        made = StaffSecrets(self.private_key, self.totp_secret, signing_key=pair.private)
        return made, pair.public

    def __repr__(self) -> str:
        return "StaffSecrets(<hidden>)"


@dataclass(frozen=True)
class NewStaffKeys:
    """A fresh set of staff secrets and the public halves to store beside them."""

    secrets: StaffSecrets
    public_key: bytes
    signing_public: bytes

    def __repr__(self) -> str:
        return "NewStaffKeys(<hidden>)"


def new_staff_keys() -> NewStaffKeys:
    """An X25519 pair (sealing), an Ed25519 pair (signing) and a TOTP secret."""
    keypair = crypto.generate_keypair()
    signing = crypto.generate_signing_keypair()
    return NewStaffKeys(
        secrets=StaffSecrets(
            private_key=keypair.private,
            totp_secret=pyotp.random_base32(TOTP_SECRET_LENGTH),
            signing_key=signing.private,
        ),
        public_key=keypair.public,
        signing_public=signing.public,
    )


def validate_password(password: str) -> None:
    if len(password) < 12:
        raise InvalidInput(N_("The password must have at least 12 characters."), field="password")


# At most this many Argon2id derivations run at once per process: each takes a core and 64 MiB,
# so a burst of sign-ins waits its turn instead of starving report intake. With two at once on
# two cores, report latency on PostgreSQL doubled while sign-ins ran (its server process
# competes for the same cores and memory bandwidth); with one, it rose by about 1.4x.
PASSWORD_WORKERS = 1
# The derivation threads also run at a lower CPU priority than the event loop (Linux keeps a
# nice value per thread): on a busy machine the loop serving reports and pages gets the CPU
# first and sign-ins take longer, instead of every request waiting behind Argon2id.
PASSWORD_NICENESS = 10


def _lower_thread_priority() -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), PASSWORD_NICENESS)
    except (AttributeError, OSError):  # not Linux, or not permitted: run at normal priority
        pass


_password_threads = ThreadPoolExecutor(
    max_workers=PASSWORD_WORKERS,
    thread_name_prefix="quietline-password",
    initializer=_lower_thread_priority,
)


async def _in_password_thread(function: Callable[..., T], *args: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(_password_threads, function, *args)


async def lock_staff_secrets(settings: Settings, password: str, secrets: StaffSecrets) -> bytes:
    return await _in_password_thread(
        crypto.lock_secret, password, secrets.pack(), password_cost(settings)
    )


async def unlock_staff_secrets(credential: bytes, password: str) -> StaffSecrets:
    """Raises ``crypto.WrongPassword`` when the password does not match."""
    secret = await _in_password_thread(crypto.unlock_secret, credential, password)
    return StaffSecrets.unpack(secret)


async def create_staff(
    session: AsyncSession,
    settings: Settings,
    *,
    email: str,
    name: str,
    role: str,
    group: str,
    password: str,
) -> tuple[Staff, StaffSecrets]:
    """Add a staff member with a fresh key pair and TOTP secret (not yet committed)."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise InvalidInput(
            N_("%(email)s is not an email address."), field="email", email=repr(email)
        )
    if role not in tuple(Role):
        raise InvalidInput(
            N_("The role must be one of %(roles)s."), field="role", roles=", ".join(Role)
        )
    if not name.strip():
        raise InvalidInput(N_("A name is needed."), field="name")
    if not group.strip():
        raise InvalidInput(N_("A group is needed."), field="group")
    validate_password(password)
    existing = await session.exec(select(Staff).where(Staff.email == email))
    if existing.first() is not None:
        raise InvalidInput(
            N_("A staff member with the email %(email)s exists already."),
            field="email",
            email=email,
        )
    keys = new_staff_keys()
    staff = Staff(
        email=email,
        name=name.strip(),
        role=role,
        group_name=group.strip(),
        public_key=keys.public_key,
        signing_public=keys.signing_public,
        credential=await lock_staff_secrets(settings, password, keys.secrets),
    )
    session.add(staff)
    return staff, keys.secrets


def totp_uri(staff: Staff, secrets: StaffSecrets, *, issuer: str = "Quietline") -> str:
    """The authenticator's enrolment address; ``issuer`` is the name the app shows beside it."""
    return pyotp.TOTP(secrets.totp_secret).provisioning_uri(
        name=staff.email, issuer_name=issuer or "Quietline"
    )


def format_recovery_key(private_key: bytes) -> str:
    """Group the private half for printing."""
    return key_as_text(private_key)


def parse_recovery_key(text: str) -> bytes:
    try:
        return key_from_text(text)
    except ValueError as exc:
        if str(exc) == "characters":
            raise InvalidInput(
                N_("That is not a recovery key: it has characters never used in one.")
            ) from exc
        raise InvalidInput(N_("That is not a recovery key: it has the wrong length.")) from exc


def format_recovery_public(public_key: bytes) -> str:
    """The public half, grouped like the private half, to carry from the offline machine."""
    return format_recovery_key(public_key)


def parse_recovery_public(text: str) -> bytes:
    try:
        return parse_recovery_key(text)
    except InvalidInput:
        raise InvalidInput(
            N_(
                "That is not a recovery public key: 52 letters and digits (groups of four) "
                "expected."
            )
        ) from None


def check_sealable(public_key: bytes) -> None:
    """Refuse a public key nothing can be sealed to (all-zero, low-order): now, not at a report."""
    try:
        crypto.seal(b"check", public_key, case_id="check", purpose="check")
    except ValueError:
        raise InvalidInput(
            N_("That recovery public key cannot be used: check what was typed.")
        ) from None


@dataclass(frozen=True)
class RecoveryCheck:
    sealed: int
    opened: int


async def check_recovery_key(session: AsyncSession, private_key: bytes) -> RecoveryCheck:
    """How many case keys are sealed to this recovery private key's public half, and how many
    of them it opens. Nothing decrypted leaves this function."""
    public = crypto.public_key_of(private_key)
    copies = (
        await session.exec(
            select(CaseKey)
            .join(RecoveryKey, col(RecoveryKey.id) == col(CaseKey.recovery_key_id))
            .where(RecoveryKey.public_key == public)
        )
    ).all()
    opened = 0
    for copy in copies:
        try:
            crypto.unseal(copy.sealed, private_key, case_id=copy.case_id, purpose=CASE_KEY_PURPOSE)
        except crypto.DecryptionError:
            continue
        opened += 1
    return RecoveryCheck(sealed=len(copies), opened=opened)


def seal_case_key(
    case_id: str, data_key: bytes, recipients: Recipients, *, received_on: date | None = None
) -> list[dict[str, Any]]:
    """The case key sealed to every recipient, as ``casekey`` rows for a Core insert (one
    statement for all of them: every report writes these)."""
    holders = [(person, False) for person in recipients.staff]
    holders.append((recipients.recovery_key, True))
    return [
        {
            "case_id": case_id,
            "staff_id": None if is_recovery else holder.id,
            "recovery_key_id": holder.id if is_recovery else None,
            "received_on": received_on,
            "sealed": crypto.seal(
                data_key, holder.public_key, case_id=case_id, purpose=CASE_KEY_PURPOSE
            ),
        }
        for holder, is_recovery in holders
    ]


async def staff_by_email(session: AsyncSession, email: str) -> Staff | None:
    result = await session.exec(select(Staff).where(Staff.email == email.strip().lower()))
    return result.first()


async def list_staff(session: AsyncSession) -> list[Staff]:
    result = await session.exec(select(Staff).order_by(col(Staff.group_name), Staff.email))
    return list(result.all())
