"""Backups are encrypted with age unless the operator asks for a plain one, and hold no staff
session: `tar` cannot read an encrypted backup, a wrong or missing key is refused and changes
nothing, the right key restores every case, and the restored instance has no live session."""

from __future__ import annotations

import json
import subprocess
import tarfile
from pathlib import Path

import httpx
from pyrage import x25519
from sqlmodel import select

from intake.storage.models import StaffSession
from tests.support.casefactory import file_report
from tests.support.instance import Instance, quietline_environ
from tests.support.live import run_cli
from tests.support.postgres import run_sync
from tests.support.restoring import restore_target, restored_state
from tests.support.staffing import sign_in

PASSPHRASE = "seven long words kept in the safe"


def _key_files(folder: Path, name: str) -> tuple[Path, str]:
    """An age identity file (as age-keygen writes one) and its public key."""
    identity = x25519.Identity.generate()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / f"{name}.txt"
    path.write_text(f"# public key: {identity.to_public()}\n{identity}\n")
    return path, str(identity.to_public())


async def _live_session(made: Instance, client: httpx.AsyncClient) -> str:
    """Sign a staff member in; the id of the session row it made."""
    await sign_in(made, client, "officer1@example.org")
    async with made.runtime.sessions() as session:
        return (await session.exec(select(StaffSession.id))).one()


def _tar_reads(path: Path) -> bool:
    listing = subprocess.run(["tar", "-tf", str(path)], capture_output=True, check=False)
    return listing.returncode == 0


def _pepper(made: Instance) -> bytes:
    stored = json.loads((made.settings.data_dir / "server-secrets.json").read_text())
    return str(stored["token_pepper"]).encode()


async def test_a_backup_encrypted_to_a_recipient_restores_only_with_its_identity(
    seeded: Instance, client: httpx.AsyncClient, tmp_path: Path, database_url: str | None
) -> None:
    token, _ = await file_report(seeded.runtime, body="Filed before the backup.")
    await _live_session(seeded, client)
    _recipient_round_trip(seeded, tmp_path, database_url, token)


def _recipient_round_trip(
    seeded: Instance, tmp_path: Path, database_url: str | None, token: str
) -> None:
    identity, public = _key_files(tmp_path / "keys", "office")
    stranger, _ = _key_files(tmp_path / "keys", "stranger")
    live = quietline_environ(seeded.settings.data_dir, database_url)
    archive = tmp_path / "backups" / "quietline.backup"

    made = run_cli(live, "backup", "--out", str(archive), "--to", public)
    assert made.returncode == 0, made.stderr
    assert "encrypted with age to 1 recipient" in made.stdout
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    assert not _tar_reads(archive)
    content = archive.read_bytes()
    assert content.startswith(b"age-encryption.org/v1\n")
    assert _pepper(seeded) not in content and b"manifest.json" not in content

    with restore_target(tmp_path, database_url) as target:
        restored_dir = Path(target["QUIETLINE_DATA_DIR"])
        keyless = run_cli(target, "restore", "--in", str(archive))
        assert keyless.returncode == 2 and "--identity FILE" in keyless.stderr
        wrong = run_cli(target, "restore", "--in", str(archive), "--identity", str(stranger))
        assert wrong.returncode == 2
        assert "none of the identities given opens this backup" in wrong.stderr
        assert not restored_dir.exists()
        assert not list(tmp_path.glob(".quietline-restore-*"))

        restored = run_cli(target, "restore", "--in", str(archive), "--identity", str(identity))
        assert restored.returncode == 0, restored.stderr
        assert "staff sessions are never restored" in restored.stdout
        assert run_sync(restored_state(target, token)) == ("received", 0)


async def test_a_backup_under_a_passphrase_restores_only_with_it(
    seeded: Instance, tmp_path: Path, database_url: str | None
) -> None:
    token, _ = await file_report(seeded.runtime, body="Filed before the backup.")
    _passphrase_round_trip(seeded, tmp_path, database_url, token)


def _passphrase_round_trip(
    seeded: Instance, tmp_path: Path, database_url: str | None, token: str
) -> None:
    live = quietline_environ(seeded.settings.data_dir, database_url)
    archive = tmp_path / "backups" / "quietline.backup"
    short = run_cli(live, "backup", "--out", str(archive), "--passphrase-stdin", stdin="short\n")
    assert short.returncode == 2 and "at least 12 characters" in short.stderr
    assert not archive.exists()

    made = run_cli(
        live, "backup", "--out", str(archive), "--passphrase-stdin", stdin=PASSPHRASE + "\n"
    )
    assert made.returncode == 0, made.stderr
    assert "encrypted with age under the passphrase" in made.stdout
    assert not _tar_reads(archive)
    assert _pepper(seeded) not in archive.read_bytes()

    with restore_target(tmp_path, database_url) as target:
        restored_dir = Path(target["QUIETLINE_DATA_DIR"])
        keyless = run_cli(target, "restore", "--in", str(archive))
        assert keyless.returncode == 2 and "--passphrase-stdin" in keyless.stderr
        wrong = run_cli(
            target, "restore", "--in", str(archive), "--passphrase-stdin",
            stdin="not the passphrase at all\n",
        )  # fmt: skip
        assert wrong.returncode == 2 and "passphrase does not open" in wrong.stderr
        assert not restored_dir.exists()

        restored = run_cli(
            target, "restore", "--in", str(archive), "--passphrase-stdin", stdin=PASSPHRASE + "\n"
        )
        assert restored.returncode == 0, restored.stderr
        assert run_sync(restored_state(target, token)) == ("received", 0)


def test_a_backup_is_encrypted_to_the_configured_recipients_and_never_plain_unasked(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    environ = quietline_environ(data)
    assert run_cli(environ, "init").returncode == 0
    archive = tmp_path / "backups" / "quietline.backup"

    unasked = run_cli(environ, "backup", "--out", str(archive))
    assert unasked.returncode == 2 and "say how to protect the backup" in unasked.stderr
    assert not archive.exists()

    identities = [_key_files(tmp_path / "keys", name) for name in ("clerk", "auditor")]
    recipients = ", ".join(public for _, public in identities)
    configured = {**environ, "QUIETLINE_BACKUP_RECIPIENTS": recipients}
    made = run_cli(configured, "backup", "--out", str(archive))
    assert made.returncode == 0, made.stderr
    assert "encrypted with age to 2 recipients" in made.stdout
    # A file of recipients works as --to, and either identity opens the backup.
    listed = tmp_path / "keys" / "recipients.txt"
    listed.write_text("# the office's backup keys\n" + "\n".join(p for _, p in identities) + "\n")
    again = tmp_path / "backups" / "again.backup"
    assert run_cli(environ, "backup", "--out", str(again), "--to", str(listed)).returncode == 0
    restored = run_cli(
        quietline_environ(tmp_path / "restored"),
        "restore", "--in", str(again), "--identity", str(identities[1][0]),
    )  # fmt: skip
    assert restored.returncode == 0, restored.stderr
    bad = run_cli(environ, "backup", "--out", str(archive), "--to", "age1notakey")
    assert bad.returncode == 2 and "not an age public key" in bad.stderr


async def test_a_plain_backup_says_what_it_holds_and_holds_no_staff_session(
    seeded: Instance, client: httpx.AsyncClient, tmp_path: Path, database_url: str | None
) -> None:
    token, _ = await file_report(seeded.runtime, body="Filed before the backup.")
    session_id = await _live_session(seeded, client)
    _plain_round_trip(seeded, tmp_path, database_url, token, session_id)


def _plain_round_trip(
    seeded: Instance, tmp_path: Path, database_url: str | None, token: str, session_id: str
) -> None:
    live = quietline_environ(seeded.settings.data_dir, database_url)
    archive = tmp_path / "backups" / "quietline.tar"

    made = run_cli(live, "backup", "--out", str(archive), "--plain")
    assert made.returncode == 0, made.stderr
    assert "NOT encrypted" in made.stdout
    for held in ("token pepper", "session signing key", "password hashes"):
        assert held in made.stdout
    assert _tar_reads(archive)
    with tarfile.open(archive) as opened:
        members = {member.name: member for member in opened.getmembers()}
        assert {oct(member.mode) for member in members.values()} == {"0o600"}
        manifest = json.loads(opened.extractfile("manifest.json").read())
        # SQLite's copy is one member; PostgreSQL's dump the numbered parts it names.
        parts = sorted(name for name in members if name.startswith(manifest["database"]))
        database = b"".join(opened.extractfile(name).read() for name in parts)
    assert database and (database_url is None or database.startswith(b"PGDMP"))
    assert manifest["staff_sessions"] == "left out"
    if database_url is None:  # the SQLite copy: the session's row is gone, bytes and all
        assert session_id.encode() not in database

    with restore_target(tmp_path, database_url) as target:
        restored = run_cli(target, "restore", "--in", str(archive))
        assert restored.returncode == 0, restored.stderr
        assert "was not encrypted" in restored.stdout
        assert run_sync(restored_state(target, token)) == ("received", 0)


def test_restore_of_a_damaged_encrypted_backup_changes_nothing(tmp_path: Path) -> None:
    environ = quietline_environ(tmp_path / "data")
    assert run_cli(environ, "init").returncode == 0
    identity, public = _key_files(tmp_path / "keys", "office")
    archive = tmp_path / "backups" / "quietline.backup"
    assert run_cli(environ, "backup", "--out", str(archive), "--to", public).returncode == 0
    cut = tmp_path / "backups" / "cut.backup"
    cut.write_bytes(archive.read_bytes()[:-200])
    target = quietline_environ(tmp_path / "restored")
    answer = run_cli(target, "restore", "--in", str(cut), "--identity", str(identity))
    assert answer.returncode == 2 and "damaged" in answer.stderr
    assert not (tmp_path / "restored").exists()
    not_identity = run_cli(target, "restore", "--in", str(archive), "--identity", public)
    assert not_identity.returncode == 2
