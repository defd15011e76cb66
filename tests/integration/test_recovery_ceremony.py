"""The recovery-key ceremony of deploy/README.md, command by command: generate offline, install
the public half, and test the printed private half against the cases sealed to it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.instance import quietline_environ
from tests.support.live import LiveServer, free_port


def _cli(server: LiveServer, *args: str, stdin: str = "", data_dir: bool = True):
    prefix = ["--data-dir", str(server.data_dir)] if data_dir else []
    return subprocess.run(
        [sys.executable, "-m", "intake.cli", *prefix, *args],
        input=stdin,
        env=server.environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_offline_key_installed_then_proven_to_open_the_cases(tmp_path: Path) -> None:
    server = LiveServer(
        data_dir=tmp_path / "data", port=free_port(), environ=quietline_environ(tmp_path / "data")
    )
    # On the offline machine: no data directory is touched.
    offline = _cli(
        server,
        "--data-dir",
        str(tmp_path / "nowhere"),
        "keys",
        "recovery",
        "--offline",
        data_dir=False,
    )
    assert offline.returncode == 0, offline.stderr
    assert not (tmp_path / "nowhere").exists()
    private = re.search(r"private: ([A-Z0-9-]+)", offline.stdout).group(1)
    public = re.search(r"public:  ([A-Z0-9-]+)", offline.stdout).group(1)

    # On the server: staff and an earlier key exist; the public half becomes the active key.
    assert server.command("demo").returncode == 0
    # The demo installed a recovery key: replacing it silently is refused, on purpose it is not.
    silent = _cli(server, "keys", "recovery", "--public", public.lower())
    assert silent.returncode == 2 and "--replace" in silent.stderr
    installed = _cli(server, "keys", "recovery", "--public", public.lower(), "--replace")
    assert installed.returncode == 0, installed.stderr
    assert private not in installed.stdout + installed.stderr

    server.start()
    try:
        for body in ("first report", "second report"):
            filed = httpx.post(
                f"{server.url}/api/v1/reports",
                json={"category": "financial", "body": body},
                timeout=30,
            )
            assert filed.status_code == 201
    finally:
        server.stop()

    # The key from the safe, typed back in: it opens both cases' keys.
    checked = _cli(server, "keys", "check-recovery", stdin=private.replace("-", " ") + "\n")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "the active recovery key" in checked.stdout
    assert "opens 2 of the 2 case keys" in checked.stdout

    # A mistyped or foreign key is refused clearly.
    other = _cli(server, "keys", "recovery", "--offline", data_dir=False)
    foreign = re.search(r"private: ([A-Z0-9-]+)", other.stdout).group(1)
    refused = _cli(server, "keys", "check-recovery", stdin=foreign + "\n")
    assert refused.returncode == 1 and "not a recovery key of this instance" in refused.stderr
    typo = _cli(server, "keys", "check-recovery", stdin=private[:-6] + "\n")
    assert typo.returncode == 2 and "not a recovery key" in typo.stderr
    bad_public = _cli(server, "keys", "recovery", "--replace", "--public", "AAAA-" * 12 + "AAAA")
    assert bad_public.returncode == 2 and "cannot be used" in bad_public.stderr

    # Both checks are in the audit log, and the chain still verifies.
    assert _cli(server, "audit", "verify").returncode == 0
