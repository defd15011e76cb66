"""Backup and restore: one archive file holds the database and what is needed to use it.

The archive is a tar file (mode 0600) with:

- ``manifest.json``: format, engine, schema revision, creation time, what it holds;
- ``quietline.db`` (SQLite, taken with SQLite's online backup API: a consistent
  snapshot while the service keeps writing) or ``database.pgdump`` (PostgreSQL,
  ``pg_dump --format=custom``: one repeatable-read snapshot);
- ``server-secrets.json`` when the data directory has one: without its token
  pepper no reporter's token finds its case again.

Attachments are ciphertext rows in the database, so the snapshot holds them too;
nothing else in the data directory is needed to restore (``staging/`` holds only
uploads in flight, ``mail/`` only content-free notices).

Everything a person wrote is still ciphertext in the archive; SECURITY.md says
what the archive holds and how to keep it.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess  # nosec B404
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from intake.config import Settings
from intake.datadir import SECRETS_FILE, check_private

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "quietline.db"
PG_MEMBER = "database.pgdump"


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass(frozen=True)
class Summary:
    path: Path
    engine: str
    schema_revision: str | None
    server_secrets: str  # "included" | "environment" | "missing"


def sqlite_path(settings: Settings) -> Path:
    url = make_url(settings.database_url)
    if not url.database:
        raise BackupError("the SQLite database URL names no file")
    return Path(url.database)


def libpq_target(settings: Settings) -> tuple[str, dict[str, str]]:
    """The database URL for pg_dump/pg_restore, and the environment carrying its password
    (never on the command line, where other users of the machine could read it)."""
    url = make_url(settings.database_url)
    environ = {}
    if url.password:
        environ["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), environ


def _run_tool(name: str, args: list[str], environ: dict[str, str]) -> None:
    tool = shutil.which(name)
    if tool is None:
        raise BackupError(f"{name} is not installed (on Debian: apt-get install postgresql-client)")
    result = subprocess.run(  # noqa: S603  # nosec B603 - fixed tool, arguments we built
        [tool, *args],
        env={**os.environ, **environ},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BackupError(f"{name} failed: {result.stderr.strip() or result.returncode}")


def _sqlite_snapshot(source: Path, target: Path) -> str | None:
    """Copy a live SQLite database with the online backup API, in one step (a single
    read transaction: a consistent snapshot; WAL writers are not blocked)."""
    if not source.exists():
        raise BackupError(f"there is no database at {source}: nothing to back up")
    live = sqlite3.connect(source, timeout=30)
    copy = sqlite3.connect(target)
    try:
        live.execute("PRAGMA busy_timeout=30000")
        live.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")
        status = copy.execute("PRAGMA quick_check").fetchone()[0]
        if status != "ok":
            raise BackupError(f"the copy failed its integrity check: {status}")
        row = copy.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"the SQLite backup failed: {exc}") from exc
    finally:
        copy.close()
        live.close()
    return None if row is None else str(row[0])


def _pg_snapshot(settings: Settings, target: Path) -> str | None:
    url, environ = libpq_target(settings)
    _run_tool(
        "pg_dump",
        ["--format=custom", "--no-owner", "--no-privileges", f"--file={target}", url],
        environ,
    )
    return None  # the revision is read from the restored database


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    info.mtime = int(datetime.now(UTC).timestamp())
    archive.addfile(info, io.BytesIO(data))


def create(settings: Settings, out: Path, *, include_secrets: bool = True) -> Summary:
    """Write a backup archive of a running (or stopped) instance to ``out``."""
    out = out.expanduser().resolve()
    if out.is_relative_to(settings.data_dir):
        raise BackupError("write the backup outside the data directory it copies")
    check_private(settings)
    out.parent.mkdir(parents=True, exist_ok=True)
    engine = "sqlite" if settings.is_sqlite else "postgresql"
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".quietline-backup-") as scratch:
        os.chmod(scratch, 0o700)
        member = SQLITE_MEMBER if settings.is_sqlite else PG_MEMBER
        snapshot = Path(scratch) / member
        if settings.is_sqlite:
            revision = _sqlite_snapshot(sqlite_path(settings), snapshot)
        else:
            revision = _pg_snapshot(settings, snapshot)
        secrets_file = settings.data_dir / SECRETS_FILE
        if include_secrets and secrets_file.exists():
            secrets_state = "included"
        elif settings.secret_key and settings.token_pepper:
            secrets_state = "environment"
        else:
            secrets_state = "missing"
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "engine": engine,
            "database": member,
            "schema_revision": revision,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "server_secrets": secrets_state,
        }
        partial = Path(scratch) / "archive.tar"
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            with tarfile.open(fileobj=handle, mode="w") as archive:
                _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=2).encode())
                archive.add(snapshot, arcname=member)
                if secrets_state == "included":
                    _add_bytes(archive, SECRETS_FILE, secrets_file.read_bytes())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, out)
    return Summary(out, engine, revision, secrets_state)


def read_manifest(archive: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = archive.extractfile(MANIFEST)
    except KeyError:
        member = None
    if member is None:
        raise BackupError("this file is not a Quietline backup (it has no manifest)")
    manifest: dict[str, Any] = json.loads(member.read())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    return manifest


def _write_member(archive: tarfile.TarFile, name: str, target: Path, mode: int = 0o600) -> None:
    """Extract one member to ``target`` by copying its bytes (no paths from the archive
    are trusted), atomically."""
    source = archive.extractfile(name)
    if source is None:
        raise BackupError(f"the backup is damaged: {name} is missing")
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.restoring")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "wb") as handle:
        shutil.copyfileobj(source, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, target)


def _pg_is_empty(settings: Settings) -> bool:
    import asyncio

    import asyncpg

    url, environ = libpq_target(settings)

    async def count_tables() -> int:
        connection = await asyncpg.connect(url, password=environ.get("PGPASSWORD"))
        try:
            return int(
                await connection.fetchval(
                    "SELECT count(*) FROM information_schema.tables "
                    "WHERE table_schema = current_schema()"
                )
            )
        finally:
            await connection.close()

    return asyncio.run(count_tables()) == 0


def restore(settings: Settings, source: Path, *, force: bool = False) -> Summary:
    """Bring a backup back into ``settings.data_dir`` (and its database)."""
    source = source.expanduser().resolve()
    if not source.is_file():
        raise BackupError(f"there is no backup file at {source}")
    data_dir = settings.data_dir
    if data_dir.exists() and any(data_dir.iterdir()) and not force:
        raise BackupError(
            f"the data directory {data_dir} is not empty; restore will not overwrite it. "
            "Restore into a new directory, or add --force to replace its database, "
            "server secrets"
        )
    try:
        archive = tarfile.open(source, mode="r:")
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"this file is not a Quietline backup: {exc}") from exc
    with archive:
        manifest = read_manifest(archive)
        engine = "sqlite" if settings.is_sqlite else "postgresql"
        if manifest["engine"] != engine:
            raise BackupError(
                f"this is a {manifest['engine']} backup but the target uses {engine} "
                "(QUIETLINE_DATABASE_URL); restore it into the same kind of database"
            )
        if engine == "postgresql" and not force and not _pg_is_empty(settings):
            raise BackupError(
                "the target PostgreSQL database is not empty; restore will not overwrite it. "
                "Use a new database, or add --force to replace its tables"
            )
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(data_dir, 0o700)
        if engine == "sqlite":
            database = sqlite_path(settings)
            for stale in (
                database.with_name(database.name + suffix) for suffix in ("-wal", "-shm")
            ):
                stale.unlink(missing_ok=True)
            _write_member(archive, manifest["database"], database)
        else:
            with tempfile.TemporaryDirectory(prefix=".quietline-restore-") as scratch:
                dump = Path(scratch) / PG_MEMBER
                _write_member(archive, manifest["database"], dump)
                url, environ = libpq_target(settings)
                options = [
                    "--no-owner",
                    "--no-privileges",
                    "--single-transaction",
                    "--exit-on-error",
                ]
                if force:
                    options += ["--clean", "--if-exists"]
                _run_tool("pg_restore", [*options, f"--dbname={url}", str(dump)], environ)
        if manifest["server_secrets"] == "included":
            _write_member(archive, SECRETS_FILE, data_dir / SECRETS_FILE)
    return Summary(source, engine, manifest.get("schema_revision"), manifest["server_secrets"])
