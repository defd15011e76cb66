"""The audit log's keys live outside the database (intake/datadir.py): made once, rotated with
the old ones kept, never printed."""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path

import pytest

import crypto
from intake import datadir
from intake.config import ConfigError, load_settings


def _settings(tmp_path: Path, **env: str):  # type: ignore[no-untyped-def]
    return load_settings({"QUIETLINE_DATA_DIR": str(tmp_path), **env})


def _text(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_a_fresh_instance_gets_a_mac_key_and_a_signing_key_once(tmp_path: Path) -> None:
    first = datadir.load_or_create_secrets(_settings(tmp_path)).audit
    again = datadir.load_or_create_secrets(_settings(tmp_path)).audit
    assert first is not None and again is not None
    assert first.mac_keys == again.mac_keys and len(first.mac_keys) == 1
    assert first.signing_public == again.signing_public
    assert "hidden" in repr(first) and _text(first.current[1]) not in repr(first)


def test_an_older_secrets_file_gains_the_audit_keys_and_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / datadir.SECRETS_FILE
    old = {"session_key": _text(secrets.token_bytes(32)), "token_pepper": _text(bytes(32))}
    path.write_text(json.dumps(old))
    path.chmod(0o600)
    tmp_path.chmod(0o700)
    loaded = datadir.load_or_create_secrets(_settings(tmp_path))
    stored = json.loads(path.read_text())
    assert stored["session_key"] == old["session_key"]
    assert stored["token_pepper"] == old["token_pepper"]
    assert loaded.audit is not None
    assert stored[datadir.AUDIT_KEYS_ENTRY] == [_text(loaded.audit.current[1])]


def test_rotation_puts_a_new_key_first_and_keeps_the_old_to_verify(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    before = datadir.load_or_create_secrets(settings).audit
    assert before is not None
    new_id = datadir.rotate_audit_key(settings)
    after = datadir.load_or_create_secrets(settings).audit
    assert after is not None
    assert after.current[0] == new_id != before.current[0]
    assert after.mac_key(before.current[0]) == before.current[1]
    assert after.signing_public == before.signing_public


def test_keys_from_the_environment_win_and_rotation_then_says_where(tmp_path: Path) -> None:
    newer, older = secrets.token_bytes(32), secrets.token_bytes(32)
    signing = crypto.generate_signing_keypair()
    settings = _settings(
        tmp_path,
        QUIETLINE_AUDIT_KEYS=f"{_text(newer)}, {_text(older)}",
        QUIETLINE_AUDIT_SIGNING_KEY=_text(signing.private),
    )
    audit = datadir.load_or_create_secrets(settings).audit
    assert audit is not None
    assert audit.current == (crypto.audit_key_id(newer), newer)
    assert audit.mac_key(crypto.audit_key_id(older)) == older
    assert audit.signing_public == signing.public
    assert _text(newer) not in repr(settings)
    with pytest.raises(ConfigError, match="QUIETLINE_AUDIT_KEYS"):
        datadir.rotate_audit_key(settings)


def test_a_short_key_in_the_environment_is_refused_naming_the_variable(tmp_path: Path) -> None:
    settings = _settings(tmp_path, QUIETLINE_AUDIT_KEYS="c2hvcnQ")
    with pytest.raises(ConfigError, match="QUIETLINE_AUDIT_KEYS"):
        datadir.load_or_create_secrets(settings)
