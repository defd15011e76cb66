"""The office root public key is pinned outside the database (intake/datadir.py, intake/config.py).

The recipient directory is verified against it, so whoever can write the database must not be
able to choose it: it comes from ``QUIETLINE_ROOT_PUBLIC_KEY`` or from the server secrets file.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

import crypto
from intake import datadir
from intake.config import ConfigError, load_settings
from intake.config_fields import key_as_text


def _settings(tmp_path: Path, **env: str):  # type: ignore[no-untyped-def]
    return load_settings({"QUIETLINE_DATA_DIR": str(tmp_path), **env})


def test_no_root_is_pinned_on_a_fresh_instance(tmp_path: Path) -> None:
    assert datadir.load_or_create_secrets(_settings(tmp_path)).root_public is None


def test_the_environment_pins_the_root(tmp_path: Path) -> None:
    public = crypto.generate_signing_keypair().public
    settings = _settings(tmp_path, QUIETLINE_ROOT_PUBLIC_KEY=key_as_text(public).lower())
    assert datadir.load_or_create_secrets(settings).root_public == public


def test_a_mistyped_root_in_the_environment_is_refused_naming_the_variable(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigError, match="QUIETLINE_ROOT_PUBLIC_KEY"):
        _settings(tmp_path, QUIETLINE_ROOT_PUBLIC_KEY="ABCD-EFGH")


def test_pinning_writes_the_secrets_file_only_and_keeps_its_mode(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    public = crypto.generate_signing_keypair().public
    assert datadir.pin_root_public(settings, public) is True
    assert datadir.pin_root_public(settings, public) is False  # the same key again: nothing to do
    path = tmp_path / datadir.SECRETS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = json.loads(path.read_text())
    assert set(stored) == {
        "session_key",
        "token_pepper",
        datadir.AUDIT_KEYS_ENTRY,
        datadir.AUDIT_SIGNING_ENTRY,
        datadir.ROOT_ENTRY,
    }
    assert datadir.load_or_create_secrets(settings).root_public == public


def test_a_second_root_is_refused(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    datadir.pin_root_public(settings, crypto.generate_signing_keypair().public)
    with pytest.raises(ConfigError, match="different office root key"):
        datadir.pin_root_public(settings, crypto.generate_signing_keypair().public)


def test_the_environment_and_the_file_must_agree(tmp_path: Path) -> None:
    datadir.pin_root_public(_settings(tmp_path), crypto.generate_signing_keypair().public)
    other = key_as_text(crypto.generate_signing_keypair().public)
    with pytest.raises(ConfigError, match="different root keys"):
        datadir.load_or_create_secrets(_settings(tmp_path, QUIETLINE_ROOT_PUBLIC_KEY=other))
