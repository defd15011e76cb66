"""The first run, as a new user meets it: ``make run`` on a chosen port, and on a busy one.

A busy port stops ``serve`` before anything is set up: no data directory, no demo seeded, no
password printed (the next start would otherwise find a seeded instance and print nothing).
Once it listens, the start-up output says where reporters and staff go, and the demo's notice
reaches the mail folder at once.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import httpx

from tests.support.instance import quietline_environ
from tests.support.live import free_port

ROOT = Path(__file__).resolve().parents[2]


def _environ(data: Path) -> dict[str, str]:
    return {**os.environ, **quietline_environ(data)}


def test_make_run_on_a_busy_port_fails_before_seeding_with_a_clear_message(
    tmp_path: Path,
) -> None:
    data = tmp_path / "var"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        refused = subprocess.run(
            ["make", "--no-print-directory", "run", f"PORT={port}", f"DATA_DIR={data}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env=_environ(data),
        )
    assert refused.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in refused.stderr
    assert "Is another server using this port?" in refused.stderr
    assert "PORT=" in refused.stderr  # says how to choose another
    assert "password" not in refused.stdout and "share" not in refused.stdout
    assert "serving" not in refused.stdout
    assert not data.exists()  # nothing seeded: the next start begins afresh


def test_serve_demo_says_where_to_go_and_its_notices_leave_at_once(tmp_path: Path) -> None:
    data = tmp_path / "var"
    port = free_port()
    log = tmp_path / "out.txt"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "quietline"),
                "--data-dir", str(data), "serve", "--demo", "--port", str(port),
            ],
            env=_environ(data),
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while f"staff sign-in: {base}/staff/login" not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        assert f"reporters: {base}/" in log.read_text()
        assert httpx.get(f"{base}/staff/login", timeout=10).status_code == 200
        form = httpx.get(f"{base}/api/v1/form", timeout=10).json()
        labels = {choice["label"] for choice in form["routing"]["exclude"]}
        assert {"City Solicitor", "Deputy City Solicitor"} <= labels
        filed = httpx.post(
            f"{base}/api/v1/reports",
            json={"category": form["categories"][0]["id"], "body": "A first look at the demo."},
            timeout=30,
        )
        assert filed.status_code == 201, filed.text
        mail = data / "mail"
        deadline = time.monotonic() + 30
        while not (mail.is_dir() and any(mail.glob("*.eml"))):
            assert time.monotonic() < deadline, "the demo's notice did not leave at once"
            time.sleep(0.5)
    finally:
        process.terminate()
        process.wait(timeout=30)
