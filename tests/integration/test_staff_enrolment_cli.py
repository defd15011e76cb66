"""``quietline staff add`` proposes the new member's recipient directory entry where a root key is
pinned; ``quietline directory pending`` lists it and the root's custodians can approve it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.integration.test_cli import run
from tests.integration.test_directory_cli import installed

PASSWORD = "a long enough password\n"


def add(tmp_path: Path, email: str, role: str = "officer") -> object:
    return run(
        tmp_path,
        "staff", "add", "--email", email, "--name", "Nora Officer", "--role", role, "--json",
        "--password-stdin",
        stdin=PASSWORD,
    )  # fmt: skip


def pending(tmp_path: Path) -> list[dict]:
    listed = run(tmp_path, "directory", "pending", "--json")
    assert listed.returncode == 0, listed.stderr
    return json.loads(listed.stdout.strip().splitlines()[-1])


def test_staff_add_proposes_the_member_entry_and_the_root_approves_it(tmp_path: Path) -> None:
    out = installed(tmp_path)
    added = add(tmp_path, "nora@example.org")
    assert added.returncode == 0, added.stderr
    made = json.loads(added.stdout.strip().splitlines()[-1])
    with sqlite3.connect(tmp_path / "quietline.db") as db:
        staff_id, public, signing = db.execute(
            "SELECT id, public_key, signing_public FROM staff WHERE email = 'nora@example.org'"
        ).fetchone()
    changes = pending(tmp_path)
    assert [c["id"] for c in changes] == [made["directory_change"]]
    change = changes[0]
    assert change["kind"] == "member" and change["proposer"] == "cli"
    assert change["body"] == {
        "staff_id": staff_id,
        "group": "solicitor",
        "role": "officer",
        "active": True,
        "label": None,
        "encryption_public": public.hex(),
        "signing_public": signing.hex(),
    }
    assert not change["signatures"]
    text = run(tmp_path, "directory", "pending")
    assert change["id"] in text.stdout and "member" in text.stdout

    shares = "\n".join(out["shares"]["root"][:2]) + "\n"
    approved = run(tmp_path, "directory", "approve", "--all", "--root-shares-stdin", stdin=shares)
    assert approved.returncode == 0, approved.stderr
    assert pending(tmp_path) == []
    assert "intact" in run(tmp_path, "directory", "verify").stdout
    shown = json.loads(run(tmp_path, "directory", "show", "--json").stdout.strip().splitlines()[-1])
    assert staff_id in {m["staff_id"] for m in shown["members"]}


def test_without_a_pinned_root_staff_add_proposes_nothing(tmp_path: Path) -> None:
    added = add(tmp_path, "nora@example.org")
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout.strip().splitlines()[-1])["directory_change"] is None
    assert pending(tmp_path) == []


def test_a_broken_directory_refuses_the_account_clearly(tmp_path: Path) -> None:
    installed(tmp_path)
    with sqlite3.connect(tmp_path / "quietline.db") as db:
        db.execute(
            "UPDATE directoryentry SET body = replace(body, 'alternate', 'elsewhere') "
            "WHERE position = 1"
        )
    added = add(tmp_path, "nora@example.org")
    assert added.returncode == 2, added.stderr
    assert "does not verify" in added.stderr and "Traceback" not in added.stderr
    listed = run(tmp_path, "staff", "list", "--json")
    assert "nora@example.org" not in listed.stdout
