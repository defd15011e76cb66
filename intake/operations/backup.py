"""Backup and restore: one archive file holds the database and what is needed to use it.

The archive is a tar file with (every member mode 0600, owned by nobody in particular):

- ``manifest.json``: format, engine, schema revision, creation time, what it holds;
- ``quietline.db`` (SQLite, taken with SQLite's online backup API: a consistent
  snapshot while the service keeps writing) or, for PostgreSQL, ``database.pgdump.part-00000``
  and the parts after it (a dump of everything but the attachments' chunks, streamed in parts)
  and ``attachments.pgcopy.part-00000`` and the parts after it (those chunks in PostgreSQL's
  binary COPY format, from the same snapshot; :mod:`intake.operations.backup_pg`). Formats 1
  and 2 held the chunks in the dump, format 1 as one member, ``database.pgdump``; both are
  still restored;
- ``server-secrets.json`` when the data directory has one: without its token
  pepper no reporter's token finds its case again.

The file written is that tar file encrypted with age (:mod:`intake.operations.backup_protection`)
to the operator's recipients or passphrase, or, only when asked for (``--plain``), the tar file
itself; it is mode 0600 either way.

Staff sessions are left out: a session row holds the staff member's private key wrapped under a
key in their cookie, so a backup taken during a session, with that cookie, would give the key
even after sign-out. The SQLite copy has them deleted (with ``secure_delete``, so their bytes are
gone), ``pg_dump`` skips their rows, and ``restore`` deletes any an older archive held.

Attachments are ciphertext rows in the database, so the snapshot holds them too;
nothing else in the data directory is needed to restore (``staging/`` holds only
uploads in flight, ``mail/`` only content-free notices). A plaintext SQLite snapshot exists only
in a private scratch folder inside the data directory while the archive is written (a
PostgreSQL dump is never on disk), and a decrypted archive only in a private scratch folder
beside the target data directory while it is restored.

Everything a person wrote is still ciphertext in the archive; SECURITY.md says
what the archive holds and how to keep it.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from pyrage import x25519

from intake.config import Settings
from intake.datadir import SECRETS_FILE, check_private, sqlite_file
from intake.operations import backup_pg, backup_protection
from intake.operations.backup_protection import BackupError, Protection
from intake.storage.models import StaffSession

#: Written; 1 and 2 are still read (their PostgreSQL dump holds the attachments' chunks too; in
#: 1 it is one member, ``database.pgdump``).
FORMAT = 3
READABLE_FORMATS = (1, 2, 3)
MANIFEST = "manifest.json"
SQLITE_MEMBER = "quietline.db"


__all__ = ["BackupError", "Protection", "Summary", "create", "restore"]

SESSIONS_TABLE = StaffSession.__tablename__


@dataclass(frozen=True)
class Summary:
    path: Path
    engine: str
    schema_revision: str | None
    server_secrets: str  # "included" | "environment" | "missing"
    protection: str = "plain"  # "plain" | "recipients" | "passphrase"


def sqlite_path(settings: Settings) -> Path:
    database = sqlite_file(settings)
    if database is None:
        raise BackupError("the SQLite database URL names no file")
    return database


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
        _forget_sessions(copy)
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


def _forget_sessions(connection: sqlite3.Connection) -> None:
    """Delete every staff session row of a SQLite copy, overwriting their bytes."""
    present = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (SESSIONS_TABLE,)
    ).fetchone()
    if present is None:
        return
    # No rollback journal on disk holding the rows for a moment; their bytes zeroed.
    connection.execute("PRAGMA journal_mode=MEMORY")
    connection.execute("PRAGMA secure_delete=ON")
    connection.execute(f'DELETE FROM "{SESSIONS_TABLE}"')  # noqa: S608  # nosec B608 - a constant
    connection.commit()


def _member_info(name: str, size: int) -> tarfile.TarInfo:
    """A member owned by nobody in particular, readable by its owner only."""
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = int(datetime.now(UTC).timestamp())
    return info


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    archive.addfile(_member_info(name, len(data)), io.BytesIO(data))


def _add_file(archive: tarfile.TarFile, name: str, path: Path) -> None:
    with path.open("rb") as source:
        archive.addfile(_member_info(name, os.fstat(source.fileno()).st_size), source)


def create(
    settings: Settings,
    out: Path,
    *,
    protection: Protection,
    include_secrets: bool = True,
    replace: bool = False,
) -> Summary:
    """Write a backup archive of a running (or stopped) instance to ``out``, protected as
    ``protection`` says (age recipients, a passphrase, or plain). An existing ``out`` is kept
    (the backup is refused) unless ``replace``: a second backup never silently overwrites the
    first."""
    out = out.expanduser().resolve()
    if out.is_relative_to(settings.data_dir.resolve()):
        raise BackupError("write the backup outside the data directory it copies")
    if out.exists() and not replace:
        raise BackupError(_EXISTS.format(out=out))
    check_private(settings)
    out.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    engine = "sqlite" if settings.is_sqlite else "postgresql"
    # The plaintext snapshot waits where the database already is, never beside the backups.
    scratch_parent = settings.data_dir if settings.data_dir.is_dir() else out.parent
    with tempfile.TemporaryDirectory(dir=scratch_parent, prefix=".quietline-backup-") as scratch:
        os.chmod(scratch, 0o700)
        snapshot = Path(scratch) / SQLITE_MEMBER
        # PostgreSQL's dump goes straight into the archive (operations/backup_pg.py); its
        # revision is read from the restored database.
        revision = _sqlite_snapshot(sqlite_path(settings), snapshot) if settings.is_sqlite else None
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
            "database": SQLITE_MEMBER if settings.is_sqlite else backup_pg.PART_PREFIX,
            **({} if settings.is_sqlite else {"attachments": backup_pg.CHUNKS_PREFIX}),
            "schema_revision": revision,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "server_secrets": secrets_state,
            "staff_sessions": "left out",
        }

        def write_archive(handle: IO[bytes]) -> None:
            with tarfile.open(fileobj=handle, mode="w|") as archive:
                _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=2).encode())
                if settings.is_sqlite:
                    _add_file(archive, SQLITE_MEMBER, snapshot)
                else:
                    for name, part in backup_pg.archive_parts(settings):
                        _add_bytes(archive, name, part)
                if secrets_state == "included":
                    _add_file(archive, SECRETS_FILE, secrets_file)

        partial = out.with_name(f".{out.name}.{secrets.token_hex(4)}.writing")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                backup_protection.write_protected(handle, protection, write_archive)
                handle.flush()
                os.fsync(handle.fileno())
            if replace:
                os.replace(partial, out)
            else:
                os.link(partial, out)  # refuses a file that appeared meanwhile
        except FileExistsError:
            raise BackupError(_EXISTS.format(out=out)) from None
        except OSError as exc:
            raise BackupError(f"the backup could not be written to {out}: {exc}") from exc
        finally:
            partial.unlink(missing_ok=True)
    return Summary(out, engine, revision, secrets_state, protection.kind)


_EXISTS = "{out} exists already: choose another file, or give --force to replace it"


def read_manifest(archive: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = archive.extractfile(MANIFEST)
    except KeyError:
        member = None
    if member is None:
        raise BackupError("this file is not a Quietline backup (it has no manifest)")
    manifest: dict[str, Any] = json.loads(member.read())
    if manifest.get("format") not in READABLE_FORMATS:
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


def _forget_restored_sessions(database: Path) -> None:
    connection = sqlite3.connect(database)
    try:
        _forget_sessions(connection)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"the restored database cannot be opened: {exc}") from exc
    finally:
        connection.close()


def restore(
    settings: Settings,
    source: Path,
    *,
    identities: Sequence[x25519.Identity] = (),
    passphrase: str | None = None,
    force: bool = False,
) -> Summary:
    """Bring a backup back into ``settings.data_dir`` (and its database).

    An encrypted backup is decrypted, and its authentication checked to the end, into a private
    scratch folder before anything of the target is touched: a wrong key or a damaged file
    changes nothing. Staff sessions are never restored: everyone signs in again.
    """
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
        kind = backup_protection.kind_of(source)
        scratch_parent = data_dir.resolve().parent
        scratch_parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(
            dir=scratch_parent, prefix=".quietline-restore-"
        ) as scratch:
            os.chmod(scratch, 0o700)
            plain = source
            if kind != "plain":
                plain = Path(scratch) / "archive.tar"
                descriptor = os.open(plain, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(descriptor, "wb") as handle:
                    backup_protection.decrypt_file(
                        source, handle, identities=identities, passphrase=passphrase
                    )
            summary = _restore_archive(settings, plain, Path(scratch), force=force)
    except OSError as exc:
        raise BackupError(f"the restore could not go on: {exc}") from exc
    return Summary(source, summary.engine, summary.schema_revision, summary.server_secrets, kind)


def _restore_archive(settings: Settings, source: Path, scratch: Path, *, force: bool) -> Summary:
    data_dir = settings.data_dir
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
        if engine == "postgresql" and not force and not backup_pg.is_empty(settings):
            raise BackupError(
                "the target PostgreSQL database is not empty; restore will not overwrite it. "
                "Use a new database, or add --force to replace its tables"
            )
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(data_dir, 0o700)
        if engine == "sqlite":
            database = sqlite_path(settings)
            staged = scratch / SQLITE_MEMBER
            _write_member(archive, manifest["database"], staged)
            _forget_restored_sessions(staged)
            for stale in (
                database.with_name(database.name + suffix) for suffix in ("-wal", "-shm")
            ):
                stale.unlink(missing_ok=True)
            _move_into_place(staged, database)
        else:
            backup_pg.restore_parts(
                settings,
                _dump_parts(archive, manifest),
                _chunk_parts(archive, manifest),
                force=force,
            )
        if manifest["server_secrets"] == "included":
            _write_member(archive, SECRETS_FILE, data_dir / SECRETS_FILE)
    return Summary(source, engine, manifest.get("schema_revision"), manifest["server_secrets"])


def _dump_parts(archive: tarfile.TarFile, manifest: dict[str, Any]) -> Iterator[IO[bytes]]:
    """A PostgreSQL dump's members in the archive's order: the numbered parts (format 2 on), or
    the one member of format 1."""
    if manifest["format"] == 1:
        return _members([manifest["database"]], archive)
    return _members(_numbered(archive, backup_pg.PART_PREFIX), archive)


def _chunk_parts(archive: tarfile.TarFile, manifest: dict[str, Any]) -> Iterator[IO[bytes]] | None:
    """The attachments' chunks (format 3 on: there is always a part, if only COPY's header);
    None for the formats whose dump holds them."""
    if manifest["format"] < 3:
        return None
    return _members(_numbered(archive, backup_pg.CHUNKS_PREFIX), archive)


def _numbered(archive: tarfile.TarFile, prefix: str) -> list[str]:
    names = [member.name for member in archive.getmembers() if member.name.startswith(prefix)]
    if not names or names != [backup_pg.part_name(n, prefix) for n in range(len(names))]:
        raise BackupError("the backup is damaged: parts of its database are missing")
    return names


def _members(names: list[str], archive: tarfile.TarFile) -> Iterator[IO[bytes]]:
    for name in names:
        source = archive.extractfile(name)
        if source is None:
            raise BackupError(f"the backup is damaged: {name} is missing")
        yield source


def _move_into_place(staged: Path, target: Path) -> None:
    """Move ``staged`` to ``target`` atomically (copying first when they are on different file
    systems), mode 0600."""
    partial = target.with_name(f".{target.name}.restoring")
    try:
        os.replace(staged, partial)
    except OSError:  # another file system: copy, then sync
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle, staged.open("rb") as source:
            shutil.copyfileobj(source, handle)
            handle.flush()
            os.fsync(handle.fileno())
    os.chmod(partial, 0o600)
    os.replace(partial, target)
