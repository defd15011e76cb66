"""The data directory's privacy check (intake/datadir.py: check_private), which every command
that opens the data directory runs first."""

from __future__ import annotations

from pathlib import Path

import pytest

from intake import datadir
from intake.config import ConfigError, load_settings


def test_a_database_outside_the_data_directory_is_checked_and_named(tmp_path: Path) -> None:
    """The fix names the file itself when the SQLite database lives elsewhere."""
    elsewhere = tmp_path / "db"
    elsewhere.mkdir(mode=0o700)
    database = elsewhere / "quietline.db"
    database.write_bytes(b"")
    database.chmod(0o604)
    settings = load_settings(
        {
            "QUIETLINE_DATA_DIR": str(tmp_path / "data"),
            "QUIETLINE_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        }
    )
    with pytest.raises(ConfigError, match=f"chmod -R go-rwx {database}$"):
        datadir.load_or_create_secrets(settings)
    assert not (tmp_path / "data").exists()


def test_a_data_directory_that_does_not_exist_yet_is_made_private(tmp_path: Path) -> None:
    settings = load_settings({"QUIETLINE_DATA_DIR": str(tmp_path / "new")})
    datadir.load_or_create_secrets(settings)
    assert oct((tmp_path / "new").stat().st_mode & 0o777) == "0o700"
    assert oct((tmp_path / "new" / datadir.SECRETS_FILE).stat().st_mode & 0o777) == "0o600"
