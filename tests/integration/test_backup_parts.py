"""A PostgreSQL backup holds its database in numbered parts: pg_dump's dump of everything but the
attachments' chunks, and those chunks in binary COPY format, both from one snapshot, fed back in
one transaction. Many parts restore whole, with every chunk; a missing part is refused before
anything changes; a damaged one restores nothing; archives of formats 1 and 2 (the chunks in the
dump) still restore."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest
from sqlmodel import col, select

from intake.config import Settings, load_settings
from intake.operations import backup, backup_pg
from intake.operations.backup_protection import Protection
from intake.runtime import open_runtime
from intake.storage.models import AttachmentChunk
from tests.support.casefactory import file_report
from tests.support.instance import Instance, quietline_environ
from tests.support.live import run_cli
from tests.support.restoring import restore_target, restored_state

# Several chunks of ciphertext (dozens of the chunks' parts at 4 KB each), random so that no run
# of its bytes is found in the dump by chance.
ATTACHMENT = os.urandom(150_000)


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
    """A plain backup of an instance holding one report with a file, cut into parts of 4 KB."""
    if database_url is None:
        pytest.skip("a PostgreSQL dump")
    token, _ = await file_report(
        seeded.runtime, body="Filed before the backup.", attachments=(("ledger.bin", ATTACHMENT),)
    )
    monkeypatch.setattr(backup_pg, "PART_BYTES", 4096)
    path = tmp_path / "backups" / "quietline.tar"
    await asyncio.to_thread(backup.create, seeded.settings, path, protection=Protection())
    return path, token


async def _chunks(settings: Settings) -> list[tuple[str, int, bytes]]:
    runtime = open_runtime(settings)
    try:
        async with runtime.sessions() as session:
            rows = await session.exec(
                select(AttachmentChunk).order_by(
                    col(AttachmentChunk.attachment_id), col(AttachmentChunk.seq)
                )
            )
            return [(row.attachment_id, row.seq, row.data) for row in rows.all()]
    finally:
        await runtime.close()


def _numbered(members: dict[str, bytes], prefix: str) -> list[str]:
    return sorted(name for name in members if name.startswith(prefix))


async def test_a_backup_in_many_parts_restores_whole_with_every_chunk(
    archive: tuple[Path, str], seeded: Instance, tmp_path: Path, database_url: str | None
) -> None:
    path, token = archive
    members = _members(path)
    manifest = json.loads(members["manifest.json"])
    assert manifest["format"] == 3 and manifest["database"] == backup_pg.PART_PREFIX
    assert manifest["attachments"] == backup_pg.CHUNKS_PREFIX
    parts = _numbered(members, backup_pg.PART_PREFIX)
    chunk_parts = _numbered(members, backup_pg.CHUNKS_PREFIX)
    assert len(parts) > 3 and parts == [backup_pg.part_name(n) for n in range(len(parts))]
    assert len(chunk_parts) > 30
    assert chunk_parts == [
        backup_pg.part_name(n, backup_pg.CHUNKS_PREFIX) for n in range(len(chunk_parts))
    ]
    assert all(len(members[name]) == 4096 for name in parts[:-1] + chunk_parts[:-1])
    assert members[parts[0]].startswith(b"PGDMP")
    assert members[chunk_parts[0]].startswith(b"PGCOPY\n\xff\r\n\x00")
    assert "database.pgdump" not in members  # the dump is never one file
    # The chunks are in their own parts only, not (as hex text) in the dump as well.
    original = await _chunks(seeded.settings)
    assert len(original) >= 1
    dump = b"".join(members[name] for name in parts)
    sample = original[0][2][100:132]
    assert sample not in dump and sample.hex().encode() not in dump
    with restore_target(tmp_path, database_url) as target:
        restored = run_cli(target, "restore", "--in", str(path))
        assert restored.returncode == 0, restored.stderr
        assert await restored_state(target, token) == ("received", 0)
        assert await _chunks(load_settings(target)) == original


@pytest.mark.parametrize("prefix", [backup_pg.PART_PREFIX, backup_pg.CHUNKS_PREFIX])
async def test_a_backup_missing_a_part_is_refused_and_restores_nothing(
    archive: tuple[Path, str], tmp_path: Path, database_url: str | None, prefix: str
) -> None:
    path, _ = archive
    members = _members(path)
    del members[backup_pg.part_name(1, prefix)]
    await _refused_leaving_nothing(
        members, tmp_path, database_url, "parts of its database are missing"
    )


@pytest.mark.parametrize("prefix", [backup_pg.PART_PREFIX, backup_pg.CHUNKS_PREFIX])
async def test_a_damaged_part_restores_nothing(
    archive: tuple[Path, str], tmp_path: Path, database_url: str | None, prefix: str
) -> None:
    """The dump garbled in its middle (pg_restore stops half-way through its SQL), or the
    chunks cut short (the COPY ends inside a row): the restore fails and not one table is left
    behind. psql commits what it was given when its input ends, so a failure must stop it, not
    end it. (Bytes changed inside a chunk are caught later, by the chunk's own authentication
    tag, when the file is opened; an encrypted archive refuses any change at all.)"""
    path, _ = archive
    members = _members(path)
    numbered = _numbered(members, prefix)
    if prefix == backup_pg.PART_PREFIX:
        middle = numbered[len(numbered) // 2]
        members[middle] = b"\x00" * len(members[middle])
    else:
        del members[numbered[-1]]
        members[numbered[-2]] = members[numbered[-2]][:1000]
    await _refused_leaving_nothing(members, tmp_path, database_url, "failed")


async def _refused_leaving_nothing(
    members: dict[str, bytes], tmp_path: Path, database_url: str | None, says: str
) -> None:
    """Restoring an archive of ``members`` fails, saying ``says``, and the new database stays
    empty."""
    damaged = _rewritten(tmp_path / "damaged.tar", members)
    with restore_target(tmp_path, database_url) as target:
        refused = run_cli(target, "restore", "--in", str(damaged))
        assert refused.returncode != 0
        assert says in refused.stderr
        assert await asyncio.to_thread(backup_pg.is_empty, load_settings(target))


def _whole_dump(settings: Settings) -> bytes:
    """A dump as formats 1 and 2 made it: the chunks inside, as hex text."""
    url, environ = backup_pg.libpq_target(settings)
    return subprocess.run(
        ["pg_dump", "--format=custom", "--compress=0", "--no-owner", "--no-privileges", url],
        capture_output=True,
        check=True,
        env={**os.environ, **environ},
    ).stdout


@pytest.mark.parametrize("earlier_format", [1, 2])
async def test_an_archive_of_an_earlier_format_still_restores(
    archive: tuple[Path, str],
    seeded: Instance,
    tmp_path: Path,
    database_url: str | None,
    earlier_format: int,
) -> None:
    path, token = archive
    members = _members(path)
    manifest = json.loads(members.pop("manifest.json"))
    for name in list(members):
        if name.startswith((backup_pg.PART_PREFIX, backup_pg.CHUNKS_PREFIX)):
            del members[name]
    del manifest["attachments"]
    whole = _whole_dump(seeded.settings)
    if earlier_format == 1:
        database = {"database.pgdump": whole}
        manifest["database"] = "database.pgdump"
    else:
        database = {
            backup_pg.part_name(n): whole[start : start + 4096]
            for n, start in enumerate(range(0, len(whole), 4096))
        }
    old = {
        "manifest.json": json.dumps({**manifest, "format": earlier_format}).encode(),
        **database,
        **members,
    }
    earlier = _rewritten(tmp_path / f"format-{earlier_format}.tar", old)
    with restore_target(tmp_path, database_url) as target:
        restored = run_cli(target, "restore", "--in", str(earlier))
        assert restored.returncode == 0, restored.stderr
        assert await restored_state(target, token) == ("received", 0)
        assert await _chunks(load_settings(target)) == await _chunks(seeded.settings)


def test_a_dump_that_fails_leaves_no_archive(tmp_path: Path, database_url: str | None) -> None:
    """A backup failing (here, at once: the database is gone, so the session that holds the
    snapshot cannot start) is said plainly, and nothing is left where the archive was to be,
    not even a partial file."""
    if database_url is None:
        pytest.skip("a PostgreSQL dump")
    gone = database_url.rsplit("/", 1)[0] + "/quietline_no_such_database"
    environ = quietline_environ(tmp_path / "data", gone)
    out = tmp_path / "backups"
    made = run_cli(environ, "backup", "--out", str(out / "quietline.tar"), "--plain")
    assert made.returncode != 0
    assert "psql failed" in made.stderr and "quietline_no_such_database" in made.stderr
    assert not out.exists() or list(out.iterdir()) == []


async def test_a_forced_restore_replaces_a_database_that_holds_one_already(
    archive: tuple[Path, str], seeded: Instance, tmp_path: Path, database_url: str | None
) -> None:
    """``restore --force`` into a database that is not empty: its tables are dropped and made
    again in the same transaction, and the chunks' COPY fills the new one."""
    path, token = archive
    with restore_target(tmp_path, database_url) as target:
        first = run_cli(target, "restore", "--in", str(path))
        assert first.returncode == 0, first.stderr
        refused = run_cli(target, "restore", "--in", str(path))
        assert refused.returncode != 0 and "--force" in refused.stderr
        forced = run_cli(target, "restore", "--in", str(path), "--force")
        assert forced.returncode == 0, forced.stderr
        assert await restored_state(target, token) == ("received", 0)
        assert await _chunks(load_settings(target)) == await _chunks(seeded.settings)
