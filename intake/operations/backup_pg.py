r"""The PostgreSQL side of backup and restore: ``pg_dump`` and a binary ``COPY`` streamed into
the archive, and fed back through one ``psql`` transaction.

A backup reads one snapshot, exported by a ``psql`` session that holds it open: ``pg_dump
--format=custom --compress=0 --snapshot=...`` writes everything but the attachments' ciphertext
chunks (uncompressed since its rows are ciphertext), and ``COPY ... TO STDOUT (FORMAT binary)``,
in the same snapshot, writes those chunks. They are most of the bytes, and a dump holds bytea as
hex text that PostgreSQL must parse back character by character: restoring 524 MB of chunks took
9.8 s from a dump's text and 2.7 s from binary ``COPY`` here. A tar member states its size
before its bytes, and a stream's size is known only at its end, so each stream goes into the
archive as it comes, in members of :data:`PART_BYTES` each (:data:`PART_PREFIX` or
:data:`CHUNKS_PREFIX`, and a number): nothing of the database is written to disk on the way.

A restore turns the dump back into SQL (``pg_restore --file=-``) and pipes it into one ``psql
--single-transaction``, followed by ``\copy ... FROM pstdin (FORMAT binary)`` and the chunks'
parts: all of it, or none of it. Until the last byte has gone in, a failure kills ``psql``
(which then commits nothing) rather than ending its input (which would commit what it had).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import subprocess  # nosec B404
import tempfile
import threading
from collections.abc import Iterable, Iterator
from typing import IO

from sqlalchemy.engine import make_url

from intake.config import Settings
from intake.operations.backup_protection import BackupError
from intake.storage.models import AttachmentChunk, StaffSession

#: One member of the archive holds this much of a stream (it is held in memory while written).
PART_BYTES = 8 * 1024 * 1024
PART_PREFIX = "database.pgdump.part-"
#: The attachments' chunks, in PostgreSQL's binary COPY format (archives of format 3 on).
CHUNKS_PREFIX = "attachments.pgcopy.part-"
SESSIONS_TABLE = StaffSession.__tablename__
CHUNKS_TABLE = AttachmentChunk.__tablename__
# No column list: the restored table is the dumped one, so its columns come in the order the
# binary COPY wrote them, whatever the schema revision of the archive.
_COPY_CHUNKS = f'"{CHUNKS_TABLE}"'
_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f]+(-[0-9A-Fa-f]+)+")
#: psql without the user's settings file, never asking for a password (it comes in PGPASSWORD,
#: or not at all), quiet, stopping at the first error.
_PSQL_OPTIONS = ("--no-psqlrc", "--no-password", "--quiet", "--set=ON_ERROR_STOP=1")


def part_name(number: int, prefix: str = PART_PREFIX) -> str:
    return f"{prefix}{number:05d}"


def libpq_target(settings: Settings) -> tuple[str, dict[str, str]]:
    """The database URL for pg_dump/pg_restore, and the environment carrying its password
    (never on the command line, where other users of the machine could read it)."""
    url = make_url(settings.database_url)
    environ = {}
    if url.password:
        environ["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), environ


def _tool(name: str) -> str:
    tool = shutil.which(name)
    if tool is None:
        raise BackupError(f"{name} is not installed (on Debian: apt-get install postgresql-client)")
    return tool


def _start(
    command: list[str],
    environ: dict[str, str],
    errors: IO[bytes],
    *,
    stdin: int | None = None,
    stdout: int = subprocess.PIPE,
) -> subprocess.Popen[bytes]:
    """Start one of PostgreSQL's tools, its errors kept in ``errors`` for :func:`_failure`."""
    # A fixed program found on PATH, arguments built here from the operator's settings; no shell.
    return subprocess.Popen(  # noqa: S603  # nosec B603
        command, stdin=stdin, stdout=stdout, stderr=errors, env=environ
    )


def _failure(name: str, errors: IO[bytes], returncode: int) -> BackupError:
    errors.seek(0)
    said = errors.read().decode("utf-8", errors="replace").strip()
    return BackupError(f"{name} failed: {said or returncode}")


def archive_parts(settings: Settings) -> Iterator[tuple[str, bytes]]:
    """The archive's database members, in order: (name, bytes) of the dump's parts, then of the
    chunks' parts, both read from one snapshot. BackupError if a tool fails (after the parts it
    gave: the caller's archive is then incomplete and must be thrown away)."""
    url, environ = libpq_target(settings)
    environ = {**os.environ, **environ}
    with _exported_snapshot(url, environ) as snapshot:
        dump = [
            _tool("pg_dump"),
            "--format=custom",
            "--compress=0",
            "--no-owner",
            "--no-privileges",
            "--no-password",
            f"--snapshot={snapshot}",
            f"--exclude-table-data={SESSIONS_TABLE}",
            f"--exclude-table-data={CHUNKS_TABLE}",
            url,
        ]
        for number, part in enumerate(_stream_parts("pg_dump", dump, environ)):
            yield part_name(number), part
        chunks = [
            _tool("psql"),
            *_PSQL_OPTIONS,
            "--command=BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
            f"--command=SET TRANSACTION SNAPSHOT '{snapshot}'",
            f"--command=COPY {_COPY_CHUNKS} TO STDOUT (FORMAT binary)",
            "--command=COMMIT",
            f"--dbname={url}",
        ]
        for number, part in enumerate(_stream_parts("psql", chunks, environ)):
            yield part_name(number, CHUNKS_PREFIX), part


@contextlib.contextmanager
def _exported_snapshot(url: str, environ: dict[str, str]) -> Iterator[str]:
    """A ``psql`` session holding a repeatable-read transaction open; yields the id of its
    exported snapshot, which other sessions can read from while it lasts."""
    command = [_tool("psql"), *_PSQL_OPTIONS, "--tuples-only", "--no-align", f"--dbname={url}"]
    with tempfile.TemporaryFile() as errors:
        process = _start(command, environ, errors, stdin=subprocess.PIPE)
        assert process.stdin is not None and process.stdout is not None
        try:
            with contextlib.suppress(BrokenPipeError):
                process.stdin.write(
                    b"BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;\n"
                    b"SELECT pg_export_snapshot();\n"
                )
                process.stdin.flush()
            snapshot = process.stdout.readline().decode("ascii", errors="replace").strip()
            if not _SNAPSHOT_ID.fullmatch(snapshot):
                if process.poll() is None:  # connected, yet no snapshot: never wait on it
                    process.kill()
                raise _failure("psql", errors, process.wait())
            yield snapshot
            process.stdin.write(b"COMMIT;\n")
            process.stdin.close()
            if process.wait() != 0:
                raise _failure("psql", errors, process.returncode)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            process.stdout.close()


def _stream_parts(name: str, command: list[str], environ: dict[str, str]) -> Iterator[bytes]:
    """What ``command`` writes, :data:`PART_BYTES` at a time; BackupError if it fails."""
    with tempfile.TemporaryFile() as errors:
        process = _start(command, environ, errors)
        assert process.stdout is not None
        try:
            while part := process.stdout.read(PART_BYTES):
                yield part
            if process.wait() != 0:
                raise _failure(name, errors, process.returncode)
        finally:
            if process.poll() is None:  # the archive could not be written: stop the tool
                process.kill()
                process.wait()
            process.stdout.close()


def restore_parts(
    settings: Settings,
    dump: Iterable[IO[bytes]],
    chunks: Iterable[IO[bytes]] | None,
    *,
    force: bool,
) -> None:
    """Restore in one transaction: the dump's parts, in order, then (archives of format 3 on)
    the chunks' parts; then forget any staff sessions and gather the planner's statistics
    (:func:`after_restore`)."""
    url, environ = libpq_target(settings)
    environ = {**os.environ, **environ}
    to_sql = [
        _tool("pg_restore"),
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        *(["--clean", "--if-exists"] if force else []),
        "--file=-",
    ]
    load = [_tool("psql"), *_PSQL_OPTIONS, "--single-transaction", f"--dbname={url}"]
    with tempfile.TemporaryFile() as restore_errors, tempfile.TemporaryFile() as psql_errors:
        converter = _start(to_sql, environ, restore_errors, stdin=subprocess.PIPE)
        loader = _start(
            load, environ, psql_errors, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL
        )
        assert converter.stdin is not None and converter.stdout is not None
        assert loader.stdin is not None
        pump = _Pump(converter.stdout, loader.stdin)
        try:
            _feed(dump, converter.stdin)
            with contextlib.suppress(BrokenPipeError):
                converter.stdin.close()
            pump.join()
            if converter.wait() != 0:
                raise _failure("pg_restore", restore_errors, converter.returncode)
            if pump.broken or loader.poll() is not None:
                raise _failure("psql", psql_errors, loader.wait())
            if chunks is not None:
                # pg_restore's SQL empties the search path; the table is named as the app names it.
                copy = f"RESET search_path;\n\\copy {_COPY_CHUNKS} FROM pstdin (FORMAT binary)\n"
                with contextlib.suppress(BrokenPipeError):
                    loader.stdin.write(copy.encode())
                _feed(chunks, loader.stdin)
            with contextlib.suppress(BrokenPipeError):
                loader.stdin.close()  # the end of its input: psql commits
            if loader.wait() != 0:
                raise _failure("psql", psql_errors, loader.returncode)
        except BaseException:
            # Stopped before the end: psql, killed, commits nothing.
            for process in (loader, converter):
                if process.poll() is None:
                    process.kill()
                process.wait()
            pump.join()
            raise
        finally:
            converter.stdout.close()
    after_restore(settings)


def _feed(parts: Iterable[IO[bytes]], sink: IO[bytes]) -> None:
    """Copy every part into ``sink``; a reader that stopped early (its own error says why) ends
    the copy."""
    with contextlib.suppress(BrokenPipeError):
        for part in parts:
            shutil.copyfileobj(part, sink, PART_BYTES)
        sink.flush()


class _Pump(threading.Thread):
    """Copies pg_restore's SQL into psql as it comes. If psql stops (an error), the rest is
    read and dropped, so that pg_restore never blocks on a full pipe."""

    def __init__(self, source: IO[bytes], sink: IO[bytes]) -> None:
        super().__init__(name="quietline-restore-pump", daemon=True)
        self._source, self._sink = source, sink
        self.broken = False
        self.start()

    def run(self) -> None:
        while chunk := self._source.read(PART_BYTES):
            if self.broken:
                continue
            try:
                self._sink.write(chunk)
            except (BrokenPipeError, ValueError):  # ValueError: psql's input closed after a kill
                self.broken = True
        with contextlib.suppress(BrokenPipeError, ValueError):
            self._sink.flush()


def is_empty(settings: Settings) -> bool:
    """Whether the target database holds no table yet (a restore will not overwrite one
    unless forced)."""
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


def after_restore(settings: Settings) -> None:
    """Delete staff session rows an older archive brought back (newer ones hold none), then
    gather the planner's statistics: pg_restore brings back rows, not statistics, and until
    autovacuum comes by PostgreSQL plans the queue's filtered pages as if the tables were
    empty (320 ms instead of 13 ms for a page at 100,000 cases)."""
    import asyncpg

    url, environ = libpq_target(settings)

    async def forget() -> None:
        connection = await asyncpg.connect(url, password=environ.get("PGPASSWORD"))
        try:
            if await connection.fetchval("SELECT to_regclass($1)", SESSIONS_TABLE):
                await connection.execute(f'DELETE FROM "{SESSIONS_TABLE}"')  # noqa: S608  # nosec B608
            await connection.execute("ANALYZE")
        finally:
            await connection.close()

    asyncio.run(forget())
