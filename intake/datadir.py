"""The data directory and the server's own secrets.

The server keeps two secrets: the key that signs staff session cookies and the
pepper of the token lookup hash. They come from the environment
(``QUIETLINE_SECRET_KEY``, ``QUIETLINE_TOKEN_PEPPER``, for several processes or
hosts) or from ``server-secrets.json`` in the data directory, created on first
start with mode 0600. Neither opens a report: reports are sealed to staff and
recovery public keys.

The same file may pin the office root key's public half (``root_public_key``, written by
``quietline keys install``), unless ``QUIETLINE_ROOT_PUBLIC_KEY`` does: the recipient directory
is verified against it, so it is kept outside the database, where a database writer cannot
replace it.

Everything in the data directory is the service account's alone: folders 0700, files 0600 (the
``quietline`` command sets the umask 077 at start, and each file is also created with its mode).
Every command that opens the data directory first checks it (:func:`check_private`) and refuses
a directory, database or secrets file that group or others may open, naming the command that
fixes it.

The audit log's secrets live here too (SECURITY.md, "Audit log"): the MAC keys of its chain
(``audit_keys``, newest first; older keys stay to verify the events they chained) and the Ed25519
key that signs its checkpoints (``audit_signing_key``), or ``QUIETLINE_AUDIT_KEYS`` and
``QUIETLINE_AUDIT_SIGNING_KEY``. They are made on the first start that lacks them, under a lock
so that two processes starting together keep the same ones.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import secrets
import shlex
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

import crypto
from intake.config import ConfigError, Settings
from intake.config_fields import key_as_text, key_from_text

SECRETS_FILE = "server-secrets.json"
ROOT_ENTRY = "root_public_key"
AUDIT_KEYS_ENTRY = "audit_keys"
AUDIT_SIGNING_ENTRY = "audit_signing_key"
AUDIT_UNKEYED_ENTRY = "audit_unkeyed_events"


@dataclass(frozen=True, repr=False)
class AuditSecrets:
    """The audit chain's MAC keys by id (the first is the one new events use) and the private
    half of the checkpoint signing key."""

    mac_keys: tuple[tuple[str, bytes], ...]
    signing_key: bytes
    signing_public: bytes = field(init=False)

    def __post_init__(self) -> None:
        if not self.mac_keys:
            raise ConfigError("the audit chain needs at least one MAC key")
        object.__setattr__(self, "signing_public", crypto.signing_public_key_of(self.signing_key))

    @property
    def current(self) -> tuple[str, bytes]:
        return self.mac_keys[0]

    def mac_key(self, key_id: str) -> bytes | None:
        return dict(self.mac_keys).get(key_id)

    def __repr__(self) -> str:
        return f"AuditSecrets(keys={[key_id for key_id, _ in self.mac_keys]}, <hidden>)"


@dataclass(frozen=True)
class ServerSecrets:
    session_key: bytes
    token_pepper: bytes
    root_public: bytes | None = None
    audit: AuditSecrets | None = None

    def __repr__(self) -> str:
        return "ServerSecrets(<hidden>)"


def prepare(data_dir: Path) -> None:
    """Create the data directory readable by the service account only."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)


def sqlite_file(settings: Settings) -> Path | None:
    """The SQLite database file, or None on PostgreSQL (or an in-memory database)."""
    if not settings.is_sqlite:
        return None
    database = make_url(settings.database_url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def check_private(settings: Settings) -> None:
    """Refuse (ConfigError) a data directory, database or secrets file that group or others
    may open: the database holds every case's ciphertext and the staff's sealed keys, the
    secrets file the token pepper. An existing directory keeps its mode, so it is checked on
    every start rather than trusted from the day it was made. What does not exist yet passes:
    it is created private."""
    data_dir = settings.data_dir
    database = sqlite_file(settings)
    watched = [data_dir, data_dir / SECRETS_FILE]
    if database is not None:
        watched += [database, *(database.with_name(database.name + s) for s in ("-wal", "-shm"))]
    for path in watched:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            continue
        if mode & 0o077:
            inside = path == data_dir or path.parent.resolve() == data_dir.resolve()
            fix = data_dir if inside else path
            what = "folder" if path.is_dir() else "file"
            raise ConfigError(
                f"the {what} {path} can be opened by group or others (mode {mode:04o}); it "
                "must be the service account's alone (folders 0700, files 0600). Nothing was "
                f"started or changed. Fix it with: chmod -R go-rwx {shlex.quote(str(fix))}"
            )


def _decode(name: str, value: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError as exc:
        raise ConfigError(f"{name} must be URL-safe base64") from exc
    if len(raw) < 32:
        raise ConfigError(f"{name} must hold at least 32 bytes")
    return raw


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def load_or_create_secrets(settings: Settings) -> ServerSecrets:
    """Return the server secrets, creating the file on first start.

    Refuses (ConfigError) a data directory that is not private (:func:`check_private`): every
    command that opens the instance comes through here first.
    """
    check_private(settings)
    stored: dict[str, Any] = {}
    path = settings.data_dir / SECRETS_FILE
    if path.exists():
        stored = json.loads(path.read_text())
    elif not (settings.secret_key and settings.token_pepper):
        prepare(settings.data_dir)
        stored = {
            "session_key": _encode(secrets.token_bytes(32)),
            "token_pepper": _encode(secrets.token_bytes(32)),
            AUDIT_KEYS_ENTRY: [_encode(secrets.token_bytes(32))],
            AUDIT_SIGNING_ENTRY: _encode(crypto.generate_signing_keypair().private),
        }
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it a moment ago
            stored = json.loads(path.read_text())
        else:
            with os.fdopen(descriptor, "w") as handle:
                json.dump(stored, handle)
                handle.flush()
                os.fsync(handle.fileno())
    session_key = settings.secret_key.reveal() if settings.secret_key else stored["session_key"]
    pepper = settings.token_pepper.reveal() if settings.token_pepper else stored["token_pepper"]
    return ServerSecrets(
        session_key=_decode("QUIETLINE_SECRET_KEY", session_key),
        token_pepper=_decode("QUIETLINE_TOKEN_PEPPER", pepper),
        root_public=_root_public(settings, stored),
        audit=_audit_secrets(settings, stored),
    )


def _audit_secrets(settings: Settings, stored: dict[str, Any]) -> AuditSecrets:
    """The audit keys from the environment, else the file; the file's are made when missing."""
    if not (settings.audit_keys and settings.audit_signing_key):
        if AUDIT_KEYS_ENTRY not in stored or AUDIT_SIGNING_ENTRY not in stored:
            stored = _add_audit_secrets(settings)
    if settings.audit_keys:
        texts = [part.strip() for part in settings.audit_keys.reveal().split(",") if part.strip()]
        keys = [_decode("QUIETLINE_AUDIT_KEYS", text) for text in texts]
    else:
        listed = stored.get(AUDIT_KEYS_ENTRY)
        if not isinstance(listed, list) or not listed:
            raise ConfigError(f"{AUDIT_KEYS_ENTRY} in {SECRETS_FILE} must list keys")
        keys = [_decode(AUDIT_KEYS_ENTRY, str(text)) for text in listed]
    if settings.audit_signing_key:
        signing = _decode("QUIETLINE_AUDIT_SIGNING_KEY", settings.audit_signing_key.reveal())
    else:
        signing = _decode(AUDIT_SIGNING_ENTRY, str(stored[AUDIT_SIGNING_ENTRY]))
    if len(signing) != 32:
        raise ConfigError("the audit signing key must be 32 bytes")
    mac_keys = tuple((crypto.audit_key_id(key[:32]), key[:32]) for key in keys)
    return AuditSecrets(mac_keys=mac_keys, signing_key=signing)


@contextmanager
def _locked_secrets(settings: Settings) -> Iterator[dict[str, Any]]:
    """The secrets file's content, to change under an exclusive lock; written back on exit."""
    prepare(settings.data_dir)
    lock_path = settings.data_dir / (SECRETS_FILE + ".lock")
    lock = os.open(lock_path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        path = settings.data_dir / SECRETS_FILE
        stored: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
        before = dict(stored)
        yield stored
        if stored != before:
            _write_secrets(path, stored)
    finally:
        os.close(lock)  # closing releases the lock


def _write_secrets(path: Path, stored: dict[str, Any]) -> None:
    temporary = path.with_name(path.name + ".new")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(stored, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _add_audit_secrets(settings: Settings) -> dict[str, Any]:
    """Make the audit keys the file lacks (another process may have made them meanwhile)."""
    with _locked_secrets(settings) as stored:
        if AUDIT_KEYS_ENTRY not in stored:
            stored[AUDIT_KEYS_ENTRY] = [_encode(secrets.token_bytes(32))]
        if AUDIT_SIGNING_ENTRY not in stored:
            stored[AUDIT_SIGNING_ENTRY] = _encode(crypto.generate_signing_keypair().private)
        return dict(stored)


def unkeyed_events(settings: Settings) -> int | None:
    """How many events the audit log held from before its keyed chain, as recorded on the first
    start that had the keys (None: not recorded yet)."""
    path = settings.data_dir / SECRETS_FILE
    stored = json.loads(path.read_text()) if path.exists() else {}
    value = stored.get(AUDIT_UNKEYED_ENTRY)
    return value if isinstance(value, int) else None


def note_unkeyed_events(settings: Settings, count: int) -> int:
    """Record, once, how many unkeyed events the log began with; the number recorded.

    Kept outside the database so that a database writer cannot turn keyed events into
    unkeyed ones (whose links anyone can compute) and pass them off as older than the keys.
    """
    with _locked_secrets(settings) as stored:
        value = stored.get(AUDIT_UNKEYED_ENTRY)
        if not isinstance(value, int):
            stored[AUDIT_UNKEYED_ENTRY] = value = count
        return value


def rotate_audit_key(settings: Settings) -> str:
    """Put a new MAC key first in the file's ``audit_keys``, keeping the old ones; its id.

    Refused (ConfigError) where ``QUIETLINE_AUDIT_KEYS`` gives the keys: the operator adds the
    new key at the front there, on every process.
    """
    if settings.audit_keys:
        raise ConfigError(
            "the audit keys come from QUIETLINE_AUDIT_KEYS: put a new key (32 random bytes, "
            "URL-safe base64) at its front, keep the others after it, on every process"
        )
    load_or_create_secrets(settings)
    key = secrets.token_bytes(32)
    with _locked_secrets(settings) as stored:
        listed = stored.get(AUDIT_KEYS_ENTRY)
        older = list(listed) if isinstance(listed, list) else []
        stored[AUDIT_KEYS_ENTRY] = [_encode(key), *older]
    return crypto.audit_key_id(key)


def _root_public(settings: Settings, stored: dict[str, Any]) -> bytes | None:
    """The pinned root public key: the environment's, or the file's; both must agree."""
    in_file = stored.get(ROOT_ENTRY)
    try:
        from_file = key_from_text(in_file) if in_file else None
    except ValueError:
        raise ConfigError(f"{ROOT_ENTRY} in {SECRETS_FILE} is not a public key") from None
    from_env = settings.root_public_key
    if from_env is not None and from_file is not None and from_env != from_file:
        raise ConfigError(
            f"QUIETLINE_ROOT_PUBLIC_KEY and {ROOT_ENTRY} in {SECRETS_FILE} name different root "
            "keys: keep only the one the key ceremony printed"
        )
    return from_env if from_env is not None else from_file


def pin_root_public(settings: Settings, public: bytes) -> bool:
    """Pin ``public`` as the office root key in the secrets file; False if it was pinned already.

    Refuses (ConfigError) a different root key than the one already pinned: replacing the root
    changes who may sign the directory, so it is never done in passing.
    """
    load_or_create_secrets(settings)  # the file exists from here on, unless the env holds all
    path = settings.data_dir / SECRETS_FILE
    stored: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    pinned = _root_public(settings, stored)
    if pinned is not None:
        if pinned != public:
            raise ConfigError(
                "a different office root key is pinned already; a new root means a new "
                "directory (a fresh instance)"
            )
        return False
    with _locked_secrets(settings) as locked:
        locked[ROOT_ENTRY] = key_as_text(public)
    return True
