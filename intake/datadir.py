"""The data directory and the server's own secrets.

The server keeps two secrets: the key that signs staff session cookies and the
pepper of the token lookup hash. They come from the environment
(``QUIETLINE_SECRET_KEY``, ``QUIETLINE_TOKEN_PEPPER``, for several processes or
hosts) or from ``server-secrets.json`` in the data directory, created on first
start with mode 0600. Neither opens a report: reports are sealed to staff and
recovery public keys.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from intake.config import ConfigError, Settings

SECRETS_FILE = "server-secrets.json"


@dataclass(frozen=True)
class ServerSecrets:
    session_key: bytes
    token_pepper: bytes

    def __repr__(self) -> str:
        return "ServerSecrets(<hidden>)"


def prepare(data_dir: Path) -> None:
    """Create the data directory readable by the service account only."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)


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
    """Return the server secrets, creating the file on first start."""
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
    )
