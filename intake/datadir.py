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
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shlex
import stat
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from intake.config import ConfigError, Settings
from intake.config_fields import key_as_text, key_from_text

SECRETS_FILE = "server-secrets.json"
ROOT_ENTRY = "root_public_key"


@dataclass(frozen=True)
class ServerSecrets:
    session_key: bytes
    token_pepper: bytes
    root_public: bytes | None = None

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
    stored: dict[str, str] = {}
    path = settings.data_dir / SECRETS_FILE
    if path.exists():
        stored = json.loads(path.read_text())
    elif not (settings.secret_key and settings.token_pepper):
        prepare(settings.data_dir)
        stored = {
            "session_key": _encode(secrets.token_bytes(32)),
            "token_pepper": _encode(secrets.token_bytes(32)),
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
    )


def _root_public(settings: Settings, stored: dict[str, str]) -> bytes | None:
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
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    pinned = _root_public(settings, stored)
    if pinned is not None:
        if pinned != public:
            raise ConfigError(
                "a different office root key is pinned already; a new root means a new "
                "directory (a fresh instance)"
            )
        return False
    stored[ROOT_ENTRY] = key_as_text(public)
    temporary = path.with_name(path.name + ".new")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(stored, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    return True
