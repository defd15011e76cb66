"""The data directory is the service account's alone: everything the service writes is 0600 in
0700 folders, whatever the umask it was started with, and a data directory, database or secrets
file that group or others may open is refused at start, with the command that fixes it."""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.attachment_files import jpeg_with_exif_gps
from tests.support.casefactory import file_report
from tests.support.instance import Instance, quietline_environ
from tests.support.live import LiveServer, approve_all, free_port, install_ceremony, run_cli
from tests.support.reports import file_report_to

PASSWORD = "correct horse battery staple"


@pytest.fixture
def shell_umask() -> Iterator[None]:
    """The umask of most shells (0022), under which a file is made world-readable by default."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def loose_modes(*roots: Path) -> list[str]:
    """Every file under ``roots`` that is not 0600 and every folder not 0700."""
    found = []
    for root in roots:
        for path in [root, *root.rglob("*")]:
            mode = stat.S_IMODE(path.lstat().st_mode)
            wanted = 0o700 if path.is_dir() else 0o600
            if mode != wanted:
                found.append(f"{path.relative_to(root.parent)} {mode:04o}")
    return found


async def test_an_instance_made_in_process_writes_private_files(
    shell_umask: None, seeded: Instance
) -> None:
    """What the test helpers and the library make, under a 0022 umask: database (and its
    write-ahead log), secrets, upload staging."""
    await file_report(seeded.runtime, attachments=(("photo.jpg", jpeg_with_exif_gps()),))
    assert loose_modes(seeded.settings.data_dir) == []


def test_every_file_the_service_writes_is_private(
    shell_umask: None, tmp_path: Path, database_url: str | None
) -> None:
    data = tmp_path / "data"
    environ = {**quietline_environ(data, database_url), "QUIETLINE_MAIL_DELAY_MAX": "0"}

    def command(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return run_cli(environ, *args, stdin=stdin)

    shares = install_ceremony(command)
    added = command(
        "staff", "add", "--email", "officer@example.org", "--name", "Officer",
        "--role", "officer", "--password-stdin", stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    approve_all(command, shares)
    server = LiveServer(data_dir=data, port=free_port(), environ=environ).start()
    try:
        file_report_to(server.url)
    finally:
        server.stop()
    sent = run_cli(environ, "mail", "run", "--once")
    assert sent.returncode == 0, sent.stderr
    assert list((data / "mail").glob("*.eml")), "the notice was written as a file"
    backups = tmp_path / "backups"
    plain = run_cli(environ, "backup", "--out", str(backups / "plain.tar"), "--plain")
    assert plain.returncode == 0, plain.stderr
    assert loose_modes(data, backups) == []


LOOSENED = {
    "folder": ("", 0o755),
    "database": ("quietline.db", 0o644),
    "secrets": ("server-secrets.json", 0o640),
}


@pytest.mark.parametrize("loosened", sorted(LOOSENED))
def test_a_data_directory_others_can_open_is_refused_at_start(
    tmp_path: Path, database_url: str | None, loosened: str
) -> None:
    name, mode = LOOSENED[loosened]
    if database_url is not None and name == "quietline.db":
        pytest.skip("on PostgreSQL the database is not a file of the data directory")
    data = tmp_path / "data"
    environ = quietline_environ(data, database_url)
    assert run_cli(environ, "init").returncode == 0
    (data / name).chmod(mode)
    listing = sorted(path.name for path in data.iterdir())

    for command in (
        ("serve", "--port", str(free_port())),
        ("init",),
        ("backup", "--out", str(tmp_path / "backup.tar"), "--plain"),
    ):
        refused = run_cli(environ, *command, timeout=60)
        assert refused.returncode == 2, (command, refused.stdout)
        assert "group or others" in refused.stderr
        assert f"Fix it with: chmod -R go-rwx {data}" in refused.stderr
        assert "serving" not in refused.stdout
    assert sorted(path.name for path in data.iterdir()) == listing
    assert not (tmp_path / "backup.tar").exists()

    fix = refused.stderr.split("Fix it with: ", 1)[1].strip()
    subprocess.run(shlex.split(fix), check=True)
    assert run_cli(environ, "init").returncode == 0
