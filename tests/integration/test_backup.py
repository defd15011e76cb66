"""Backup under a running load of submissions, restored into a fresh data directory:
every report acknowledged before the backup began answers its token and opens for its
key holders and the recovery key; the audit chain verifies."""

from __future__ import annotations

import io
import json
import os
import secrets
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import httpx
import pyrage
import pytest
from pyrage import x25519
from sqlmodel import select

import crypto
from intake.accounts import keyring
from intake.casework import records, reporter
from intake.config import load_settings
from intake.runtime import open_runtime
from intake.storage.models import Case, CaseKey, Entry, Staff
from tests.support.casefactory import file_report
from tests.support.instance import quietline_environ
from tests.support.live import LiveServer, approve_all, free_port, install_ceremony
from tests.support.postgres import PG_ADMIN_DSN, pg_admin, run_sync

PASSWORD = "correct horse battery staple"
OFFICERS = ("officer-a@example.org", "officer-b@example.org")


def cli(environ: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "intake.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, **environ},
    )


def _set_up(environ: dict[str, str]) -> bytes:
    def command(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return cli(environ, *args, stdin=stdin)

    shares = install_ceremony(command)
    for email in OFFICERS:
        added = cli(
            environ,
            "staff", "add", "--email", email, "--name", email, "--role", "officer",
            "--password-stdin", stdin=PASSWORD + "\n",
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
    approve_all(command, shares)
    return crypto.combine_shares(shares["solicitor"][:2])


class Submitter(threading.Thread):
    """Files reports as fast as the server takes them until told to stop."""

    def __init__(self, url: str, name: str) -> None:
        super().__init__(daemon=True)
        self.url, self.name_tag = url, name
        self.stop = threading.Event()
        self.acknowledged: list[tuple[float, str, str]] = []  # (when, token, body)
        self.failures: list[str] = []

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=60) as client:
            number = 0
            while not self.stop.is_set():
                number += 1
                body = f"Load report {self.name_tag}-{number} {secrets.token_hex(6)}"
                answer = client.post("/api/v1/reports", json={"category": "safety", "body": body})
                if answer.status_code != 201:
                    self.failures.append(f"{answer.status_code} {answer.text}")
                    continue
                self.acknowledged.append((time.monotonic(), answer.json()["token"], body))


async def _refs(environ: dict[str, str], count: int) -> list[str]:
    runtime = open_runtime(load_settings(environ))
    try:
        async with runtime.sessions() as session:
            return list((await session.exec(select(Case.ref).limit(count))).all())
    finally:
        await runtime.close()


async def _opens_for_key_holders(
    environ: dict[str, str], filed: list[tuple[str, str]], recovery_private: bytes
) -> None:
    runtime = open_runtime(load_settings(environ))
    try:
        async with runtime.sessions() as session:
            staff = (await session.exec(select(Staff))).all()
            private = {
                person.id: (await keyring.unlock_staff_secrets(person.credential, PASSWORD))
                for person in staff
            }
            for token, body in filed:
                lookup = crypto.token_lookup_key(
                    runtime.secrets.token_pepper, crypto.normalise_token(token)
                )
                case = (await session.exec(select(Case).where(Case.lookup == lookup))).one()
                report = (
                    await session.exec(
                        select(Entry).where(Entry.case_id == case.id, Entry.kind == "report")
                    )
                ).one()
                wraps = (
                    await session.exec(select(CaseKey).where(CaseKey.case_id == case.id))
                ).all()
                holders = [wrap for wrap in wraps if wrap.staff_id is not None]
                assert {wrap.staff_id for wrap in holders} == set(private)
                for wrap in wraps:
                    key = (
                        recovery_private
                        if wrap.recovery_key_id is not None
                        else private[wrap.staff_id].private_key
                    )
                    data_key = crypto.unseal(
                        wrap.sealed, key, case_id=case.id, purpose=keyring.CASE_KEY_PURPOSE
                    )
                    assert body in records.decrypt_entry(crypto.KeyEpochs.first(data_key), report)
    finally:
        await runtime.close()


@pytest.fixture
def restore_database(database_url: str | None) -> str | None:
    """Where the restore goes: the SQLite default, or a second fresh PostgreSQL database."""
    if database_url is None:
        yield None
        return
    name = f"quietline_restore_{secrets.token_hex(6)}"
    run_sync(pg_admin(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        run_sync(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.mark.slow
def test_backup_under_load_restores_every_acknowledged_case(
    tmp_path: Path, database_url: str | None, restore_database: str | None
) -> None:
    live_env = quietline_environ(tmp_path / "live", database_url)
    recovery_private = _set_up(live_env)
    server = LiveServer(data_dir=tmp_path / "live", port=free_port(), environ=live_env).start()
    archive = tmp_path / "backups" / "quietline.backup"
    identity = x25519.Identity.generate()
    identity_file = tmp_path / "backup-identity.txt"
    identity_file.write_text(f"{identity}\n")
    submitters = [Submitter(server.url, f"t{index}") for index in range(2)]
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for number in range(3):
                body = {"category": "conduct", "body": f"Early report {number}"}
                assert client.post("/api/v1/reports", json=body).status_code == 201
        # Staff actions for the audit chain, recorded while the server runs.
        for ref in run_sync(_refs(live_env, 3)):
            assert cli(live_env, "hold", "--ref", ref).returncode == 0
        for submitter in submitters:
            submitter.start()
        while sum(len(s.acknowledged) for s in submitters) < 20:
            time.sleep(0.05)
        started = time.monotonic()
        made = cli(live_env, "backup", "--out", str(archive), "--to", str(identity.to_public()))
        finished = time.monotonic()
        assert made.returncode == 0, made.stderr
        assert "server-secrets.json is included" in made.stdout
        while not any(when > finished for s in submitters for when, _, _ in s.acknowledged):
            time.sleep(0.05)
    finally:
        for submitter in submitters:
            submitter.stop.set()
        for submitter in submitters:
            submitter.join(timeout=60)
        server.stop()
    assert all(not s.failures for s in submitters), [s.failures for s in submitters]
    before = [
        (token, body) for s in submitters for when, token, body in s.acknowledged if when < started
    ]
    assert len(before) >= 20
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    opened_bytes = pyrage.decrypt(archive.read_bytes(), [identity])
    with tarfile.open(fileobj=io.BytesIO(opened_bytes)) as opened:
        manifest = json.loads(opened.extractfile("manifest.json").read())
    assert manifest["engine"] == ("sqlite" if database_url is None else "postgresql")

    # A non-empty data directory is refused without --force, and left as it was.
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "keep.txt").write_text("mine")
    refused = cli(quietline_environ(occupied, restore_database), "restore", "--in", str(archive))
    assert refused.returncode == 2 and "not empty" in refused.stderr
    assert sorted(p.name for p in occupied.iterdir()) == ["keep.txt"]

    restored_dir = tmp_path / "restored"
    restored_env = quietline_environ(restored_dir, restore_database)
    restored = cli(
        restored_env, "restore", "--in", str(archive), "--data-dir", str(restored_dir),
        "--identity", str(identity_file),
    )  # fmt: skip
    assert restored.returncode == 0, restored.stderr
    verified = cli(restored_env, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    # The ceremony's installation, the two accounts added and their directory approvals, the
    # three holds, then the restore itself (the backup's own event was written to the live
    # database after the snapshot was taken).
    assert "intact: 9 events" in verified.stdout
    recorded = cli(restored_env, "audit", "list", "--kind", "backup")
    assert recorded.stdout.count("Restored the instance from a backup") == 1
    assert "Made a backup" not in recorded.stdout

    # Every reporter acknowledged before the backup began finds their case.
    again = LiveServer(data_dir=restored_dir, port=free_port(), environ=restored_env).start()
    try:
        with httpx.Client(base_url=again.url, timeout=30) as client:
            for token, _ in before:
                status = client.post("/api/v1/reports/status", json={"token": token})
                assert status.status_code == 200, status.text
                assert status.json()["stage"] == "received"
    finally:
        again.stop()
    # And every key holder (and the recovery key) opens every one of them.
    run_sync(_opens_for_key_holders(restored_env, before, recovery_private))


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.tar"
    with tarfile.open(bogus, "w") as archive:
        archive.add(__file__, arcname="notes.txt")
    target = tmp_path / "target"
    answer = cli(quietline_environ(target), "restore", "--in", str(bogus))
    assert answer.returncode == 2 and "not a Quietline backup" in answer.stderr
    missing = cli(quietline_environ(target), "restore", "--in", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "no backup file" in missing.stderr
    nothing = cli(
        quietline_environ(tmp_path / "empty"), "backup", "--out", str(tmp_path / "x"), "--plain"
    )
    assert nothing.returncode == 2 and "no database" in nothing.stderr


def test_a_second_backup_to_the_same_file_is_refused_unless_forced(tmp_path: Path) -> None:
    """A second backup to the path of the first never silently overwrites it."""
    environ = quietline_environ(tmp_path / "data")
    assert cli(environ, "init").returncode == 0
    archive = tmp_path / "backups" / "monday.tar"
    first = cli(environ, "backup", "--out", str(archive), "--plain")
    assert first.returncode == 0, first.stderr
    kept = archive.read_bytes()

    again = cli(environ, "backup", "--out", str(archive), "--plain")
    assert again.returncode == 2
    assert "exists already" in again.stderr and "--force" in again.stderr
    assert archive.read_bytes() == kept
    assert [path.name for path in archive.parent.iterdir()] == ["monday.tar"]  # no partial file

    forced = cli(environ, "backup", "--out", str(archive), "--plain", "--force")
    assert forced.returncode == 0, forced.stderr
    assert archive.read_bytes() != kept
    with tarfile.open(archive) as opened:
        assert "manifest.json" in opened.getnames()


@pytest.mark.slow
def test_a_server_with_another_token_pepper_refuses_to_start_until_the_secrets_are_back(
    tmp_path: Path,
) -> None:
    """A restore without the server secrets: the next start would make a new pepper and
    every token would fail. It refuses instead, and starts once the secrets are put back."""
    live_env = quietline_environ(tmp_path / "live")
    _set_up(live_env)
    token = run_sync(_file_one_report(live_env))
    archive = tmp_path / "no-secrets.backup"
    made = cli(live_env, "backup", "--out", str(archive), "--without-secrets", "--plain")
    assert made.returncode == 0, made.stderr

    restored_dir = tmp_path / "restored"
    restored_env = quietline_environ(restored_dir)
    restored = cli(restored_env, "restore", "--in", str(archive), "--data-dir", str(restored_dir))
    assert restored.returncode == 0, restored.stderr
    refused = cli(restored_env, "init")
    assert refused.returncode == 2
    assert "token pepper is not the one this database's cases were filed with" in refused.stderr
    assert "server-secrets.json" in refused.stderr
    # A mistyped pepper in the environment is refused the same way.
    wrong = cli({**live_env, "QUIETLINE_TOKEN_PEPPER": "A" * 43 + "="}, "init")
    assert wrong.returncode == 2 and "token pepper" in wrong.stderr

    secrets_file = "server-secrets.json"
    (restored_dir / secrets_file).write_bytes((tmp_path / "live" / secrets_file).read_bytes())
    assert cli(restored_env, "init").returncode == 0
    assert run_sync(_status(restored_env, token)) == "received"


async def _file_one_report(environ: dict[str, str]) -> str:
    runtime = open_runtime(load_settings(environ))
    try:
        token, _ = await file_report(runtime, category="safety", body="Filed before the backup.")
        return token
    finally:
        await runtime.close()


async def _status(environ: dict[str, str], token: str) -> str:
    runtime = open_runtime(load_settings(environ))
    try:
        return (await reporter.status_by_token(runtime, token)).stage
    finally:
        await runtime.close()
