"""A PostgreSQL backup holds its dump in numbered parts, streamed from pg_dump and fed back to
pg_restore: many parts restore whole, a missing part is refused before anything changes, and an
archive of format 1 (the dump as one member) still restores."""

from __future__ import annotations

import asyncio
import io
import json
import tarfile
from pathlib import Path

import pytest

from intake.config import load_settings
from intake.operations import backup, backup_pg
from intake.operations.backup_protection import Protection
from tests.support.casefactory import file_report
from tests.support.instance import Instance, quietline_environ
from tests.support.live import run_cli
from tests.support.restoring import restore_target, restored_state


def _members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive) as opened:
        return {
            member.name: opened.extractfile(member).read()  # type: ignore[union-attr]
            for member in opened.getmembers()
        }


def _rewritten(target: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(target, "w") as written:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o600
            written.addfile(info, io.BytesIO(data))
    return target


@pytest.fixture
async def archive(
    seeded: Instance, tmp_path: Path, database_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, str]:
    """A plain backup of an instance holding one report, its dump cut into parts of 4 KB."""
    if database_url is None:
        pytest.skip("a PostgreSQL dump")
    token, _ = await file_report(seeded.runtime, body="Filed before the backup.")
    monkeypatch.setattr(backup_pg, "PART_BYTES", 4096)
    path = tmp_path / "backups" / "quietline.tar"
    await asyncio.to_thread(backup.create, seeded.settings, path, protection=Protection())
    return path, token


async def test_a_dump_in_many_parts_restores_whole(
    archive: tuple[Path, str], tmp_path: Path, database_url: str | None
) -> None:
    path, token = archive
    members = _members(path)
    manifest = json.loads(members["manifest.json"])
    parts = [name for name in members if name.startswith(backup_pg.PART_PREFIX)]
    assert manifest["format"] == 2 and manifest["database"] == backup_pg.PART_PREFIX
    assert len(parts) > 3 and parts == [backup_pg.part_name(n) for n in range(len(parts))]
    assert all(len(members[name]) == 4096 for name in parts[:-1])
    assert members[parts[0]].startswith(b"PGDMP")
    assert "database.pgdump" not in members  # the dump is never one file
    with restore_target(tmp_path, database_url) as target:
        restored = run_cli(target, "restore", "--in", str(path))
        assert restored.returncode == 0, restored.stderr
        assert await restored_state(target, token) == ("received", 0)


async def test_a_backup_missing_a_part_is_refused_and_restores_nothing(
    archive: tuple[Path, str], tmp_path: Path, database_url: str | None
) -> None:
    path, _ = archive
    members = _members(path)
    del members[backup_pg.part_name(1)]
    damaged = _rewritten(tmp_path / "damaged.tar", members)
    with restore_target(tmp_path, database_url) as target:
        refused = run_cli(target, "restore", "--in", str(damaged))
        assert refused.returncode != 0
        assert "parts of its database are missing" in refused.stderr
        assert await asyncio.to_thread(backup_pg.is_empty, load_settings(target))


async def test_an_archive_of_format_1_still_restores(
    archive: tuple[Path, str], tmp_path: Path, database_url: str | None
) -> None:
    path, token = archive
    members = _members(path)
    manifest = json.loads(members.pop("manifest.json"))
    parts = sorted(name for name in members if name.startswith(backup_pg.PART_PREFIX))
    whole = b"".join(members.pop(name) for name in parts)
    old = {
        "manifest.json": json.dumps(
            {**manifest, "format": 1, "database": "database.pgdump"}
        ).encode(),
        "database.pgdump": whole,
        **members,
    }
    earlier = _rewritten(tmp_path / "format-1.tar", old)
    with restore_target(tmp_path, database_url) as target:
        restored = run_cli(target, "restore", "--in", str(earlier))
        assert restored.returncode == 0, restored.stderr
        assert await restored_state(target, token) == ("received", 0)


def test_a_dump_that_fails_leaves_no_archive(tmp_path: Path, database_url: str | None) -> None:
    """pg_dump failing half-way (here, at once: the database is gone) is said plainly, and
    nothing is left where the archive was to be, not even a partial file."""
    if database_url is None:
        pytest.skip("a PostgreSQL dump")
    gone = database_url.rsplit("/", 1)[0] + "/quietline_no_such_database"
    environ = quietline_environ(tmp_path / "data", gone)
    out = tmp_path / "backups"
    made = run_cli(environ, "backup", "--out", str(out / "quietline.tar"), "--plain")
    assert made.returncode != 0
    assert "pg_dump failed" in made.stderr and "quietline_no_such_database" in made.stderr
    assert not out.exists() or list(out.iterdir()) == []
