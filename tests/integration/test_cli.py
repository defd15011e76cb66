"""The ``quietline`` command, run as an operator would."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pyotp
import pytest

import crypto
from tests.support.instance import quietline_environ


def run(data_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "intake.cli", "--data-dir", str(data_dir), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **quietline_environ(data_dir)},
    )


def test_init_creates_a_private_data_directory(tmp_path: Path) -> None:
    data = tmp_path / "fresh"
    result = run(data, "init")
    assert result.returncode == 0, result.stderr
    assert "report categories" in result.stdout
    assert (data / "quietline.db").exists()
    secrets_file = data / "server-secrets.json"
    assert oct(secrets_file.stat().st_mode & 0o777) == "0o600"
    assert oct(data.stat().st_mode & 0o777) == "0o700"


def test_staff_add_json_list_and_disable(tmp_path: Path) -> None:
    added = run(
        tmp_path,
        "staff",
        "add",
        "--email",
        "Clerk@City.example",
        "--name",
        "Clerk",
        "--role",
        "officer",
        "--password-stdin",
        "--json",
        stdin="a long enough password\n",
    )
    assert added.returncode == 0, added.stderr
    created = json.loads(added.stdout.strip().splitlines()[-1])
    assert created["email"] == "clerk@city.example"
    assert created["otpauth_uri"].startswith("otpauth://totp/")
    assert len(pyotp.TOTP(created["totp_secret"]).now()) == 6

    listing = run(tmp_path, "staff", "list", "--json")
    people = json.loads(listing.stdout.strip().splitlines()[-1])
    assert people == [
        {
            "email": "clerk@city.example",
            "name": "Clerk",
            "role": "officer",
            "group": "solicitor",
            "active": True,
            "notify": "immediate",
        }
    ]

    assert run(tmp_path, "staff", "disable", "--email", "clerk@city.example").returncode == 0
    people = json.loads(run(tmp_path, "staff", "list", "--json").stdout.strip().splitlines()[-1])
    assert people[0]["active"] is False


def test_staff_add_refuses_bad_input_clearly(tmp_path: Path) -> None:
    short = run(
        tmp_path,
        "staff",
        "add",
        "--email",
        "a@b.example",
        "--name",
        "A",
        "--role",
        "officer",
        "--password-stdin",
        stdin="short\n",
    )
    assert short.returncode == 2
    assert "at least 12 characters" in short.stderr
    assert "Traceback" not in short.stderr
    no_password = run(
        tmp_path, "staff", "add", "--email", "a@b.example", "--name", "A", "--role", "officer"
    )
    assert no_password.returncode == 2 and "--password-stdin" in no_password.stderr
    twice = [
        run(
            tmp_path,
            "staff",
            "add",
            "--email",
            "a@b.example",
            "--name",
            "A",
            "--role",
            "officer",
            "--password-stdin",
            stdin="a long enough password\n",
        )
        for _ in range(2)
    ]
    assert twice[0].returncode == 0 and twice[1].returncode == 2
    assert "exists already" in twice[1].stderr


def test_a_new_recovery_key_is_printed_as_shares_once_and_nothing_secret_stored(
    tmp_path: Path,
) -> None:
    assert run(tmp_path, "keys", "ceremony", "--install", "--json").returncode == 0
    result = run(tmp_path, "keys", "recovery", "--group", "solicitor", "--replace")
    assert result.returncode == 0, result.stderr
    shares = re.findall(r"share for [\w-]+: (.+)", result.stdout)
    assert len(shares) == 3 and all(result.stdout.count(share) == 1 for share in shares)
    private = crypto.combine_shares(shares[:2])
    stored = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    assert private not in stored and private.hex().encode() not in stored
    assert not any(share.encode() in stored for share in shares)


def test_reports_are_refused_without_any_recipient(tmp_path: Path) -> None:
    import httpx

    from tests.support.live import LiveServer, free_port

    server = LiveServer(data_dir=tmp_path, port=free_port(), environ=quietline_environ(tmp_path))
    server.start()
    try:
        answer = httpx.post(
            server.url + "/api/v1/reports", json={"category": "financial", "body": "x"}, timeout=30
        )
        assert answer.status_code == 503
        assert "not fully set up" in answer.json()["error"]
    finally:
        server.stop()


def test_demo_seeds_only_a_fresh_instance(tmp_path: Path) -> None:
    first = run(tmp_path, "demo")
    assert first.returncode == 0
    assert "officer@example.org" in first.stdout and "recovery key" in first.stdout
    again = run(tmp_path, "demo")
    assert again.returncode == 2 and "fresh" in again.stderr


@pytest.mark.parametrize("command", [("demo",), ("serve", "--demo", "--port", "0")])
def test_demo_refuses_without_development_mode(tmp_path: Path, command: tuple[str, ...]) -> None:
    """The demo prints passwords, TOTP secrets and every custodian's share, and makes accounts
    whose secrets were on a terminal: on a host without ``QUIETLINE_DEV=1`` (production), it
    refuses before it touches anything."""
    data = tmp_path / "data"
    environ = {**os.environ, **quietline_environ(data)}
    environ.pop("QUIETLINE_DEV")
    try:
        refused = subprocess.run(
            [sys.executable, "-m", "intake.cli", "--data-dir", str(data), *command],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env=environ,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{' '.join(command)} ran without QUIETLINE_DEV")
    assert refused.returncode == 2, refused.stdout
    assert "QUIETLINE_DEV=1" in refused.stderr
    assert "password" not in refused.stdout and "share" not in refused.stdout
    assert not data.exists()


def test_demo_runs_the_ceremony_and_signs_its_staff_into_the_directory(tmp_path: Path) -> None:
    demo = run(tmp_path, "demo")
    assert demo.returncode == 0, demo.stderr
    shares = re.findall(
        r"share for (root|solicitor|alternate)-custodian-\d: ([a-z ]+)", demo.stdout
    )
    assert [who for who, _ in shares] == ["root"] * 3 + ["solicitor"] * 3 + ["alternate"] * 3
    assert all(demo.stdout.count(share) == 1 for _, share in shares)  # shown once each
    assert "signed 6 staff directory entries" in demo.stdout
    verified = run(tmp_path, "directory", "verify")
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.strip().endswith("intact, 10 entries")
    assert "no pending directory changes" in run(tmp_path, "directory", "pending").stdout
    shown = json.loads(run(tmp_path, "directory", "show", "--json").stdout.strip().splitlines()[-1])
    assert sorted((m["group"], m["role"]) for m in shown["members"]) == [
        ("alternate", "officer"),
        ("solicitor", "admin"),
        ("solicitor", "custodian"),
        ("solicitor", "investigator"),
        ("solicitor", "officer"),
        ("solicitor", "officer"),
    ]
    # A reporter may exclude the two solicitor officers by the labels the demo gives them.
    labels = sorted(m["label"] or "" for m in shown["members"])
    assert labels[-2:] == ["City Solicitor", "Deputy City Solicitor"], shown["members"]
    # Nothing secret is kept: no share is in the data directory.
    for path in tmp_path.iterdir():
        if path.is_file():
            content = path.read_bytes()
            assert not any(share.encode() in content for _, share in shares)


def test_identity_is_set_and_shown_from_the_command_line_and_audited(tmp_path: Path) -> None:
    pale = run(tmp_path, "identity", "set", "--name-en", "City of Riverside", "--accent", "#ffd700")
    assert pale.returncode == 2 and "too light to read" in pale.stderr
    logo = tmp_path / "logo.svg"
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    svg = run(tmp_path, "identity", "set", "--logo", str(logo))
    assert svg.returncode == 2 and "SVG" in svg.stderr
    made = run(
        tmp_path, "identity", "set", "--name-en", "City of Riverside",
        "--name-fr", "Ville de Riverside", "--web-address", "https://report.riverside.example/",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    # Options not given stay as they are.
    assert run(tmp_path, "identity", "set", "--accent", "#5a2d82").returncode == 0
    printed = run(tmp_path, "identity", "show").stdout
    shown = json.loads(printed[printed.index("{") :])
    assert shown["name_en"] == "City of Riverside" and shown["accent"] == "#5a2d82"
    assert shown["web_address"] == "https://report.riverside.example/"
    listed = run(tmp_path, "audit", "list", "--format", "json")
    events = json.loads(listed.stdout[listed.stdout.index("{") :])["events"]
    changes = [e for e in events if e["action"] == "admin.identity"]
    assert [e["actor"] for e in changes] == ["cli", "cli"], listed.stdout[-500:]
