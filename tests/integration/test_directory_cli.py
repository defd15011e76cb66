"""``quietline directory verify|show|pending|approve``, run as an operator would."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from intake.accounts.directory_rules import canonical, entry_from_json
from tests.integration.test_cli import run


def installed(tmp_path: Path) -> dict:
    result = run(tmp_path, "keys", "ceremony", "--install", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def propose_group(tmp_path: Path, out: dict, group: str) -> str:
    """A pending change as an administrator's proposal would leave it (no command makes one
    for a group: groups come from the ceremony)."""
    head = entry_from_json(out["genesis"][-1]).digest()
    with sqlite3.connect(tmp_path / "quietline.db") as db:
        db.execute(
            "INSERT INTO directorychange (id, kind, body, proposer, previous, signatures, status,"
            " proposed_at) VALUES (?, 'group', ?, 'root', ?, '{}', 'pending', ?)",
            (
                f"change-{group}",
                canonical({"group": group, "name": group.title()}).decode(),
                head,
                datetime.now(UTC).isoformat(sep=" "),
            ),
        )
    return f"change-{group}"


def test_verify_without_a_pinned_root_is_a_clear_error(tmp_path: Path) -> None:
    result = run(tmp_path, "directory", "verify")
    assert result.returncode == 2
    assert "no office root key is pinned" in result.stderr


def test_verify_and_show_after_the_ceremony(tmp_path: Path) -> None:
    installed(tmp_path)
    verified = run(tmp_path, "directory", "verify")
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.strip().endswith("intact, 4 entries")
    shown = run(tmp_path, "directory", "show", "--json")
    assert shown.returncode == 0, shown.stderr
    state = json.loads(shown.stdout.strip().splitlines()[-1])
    assert set(state["groups"]) == {"solicitor", "alternate"}
    assert state["recovery"]["alternate"]["custodians"][0] == "alternate-custodian-1"
    assert "group solicitor" in run(tmp_path, "directory", "show").stdout


def test_a_rewritten_entry_is_named_by_verify(tmp_path: Path) -> None:
    installed(tmp_path)
    with sqlite3.connect(tmp_path / "quietline.db") as db:
        db.execute(
            "UPDATE directoryentry SET body = replace(body, 'alternate', 'elsewhere') "
            "WHERE position = 1"
        )
    result = run(tmp_path, "directory", "verify")
    assert result.returncode == 1
    assert "entry 2" in result.stderr and "root key's signature is not valid" in result.stderr


def test_a_recovery_key_row_inserted_into_the_directory_fails_verification(
    tmp_path: Path,
) -> None:
    out = installed(tmp_path)
    forged = dict(out["genesis"][-1])
    with sqlite3.connect(tmp_path / "quietline.db") as db:
        db.execute(
            "INSERT INTO directoryentry (position, kind, body, proposer, previous, signatures,"
            " recorded_at) VALUES (4, 'recovery', ?, 'root', ?, ?, ?)",
            (
                canonical({**forged["body"], "public": "11" * 32}).decode(),
                entry_from_json(out["genesis"][-1]).digest(),
                json.dumps(forged["signatures"]),
                datetime.now(UTC).isoformat(sep=" "),
            ),
        )
    result = run(tmp_path, "directory", "verify")
    assert result.returncode == 1
    assert "entry 5" in result.stderr


def test_pending_and_root_approval_with_k_shares(tmp_path: Path) -> None:
    out = installed(tmp_path)
    first, second = propose_group(tmp_path, out, "audit"), propose_group(tmp_path, out, "board")
    pending = run(tmp_path, "directory", "pending", "--json")
    listed = json.loads(pending.stdout.strip().splitlines()[-1])
    assert {c["id"] for c in listed} == {first, second}

    one_share = out["shares"]["root"][0] + "\n"
    refused = run(tmp_path, "directory", "approve", "--all", "--root-shares-stdin", stdin=one_share)
    assert refused.returncode == 2
    assert "do not open the root key" in refused.stderr
    other = out["shares"]["solicitor"][:2]
    wrong = run(
        tmp_path, "directory", "approve", "--all", "--root-shares-stdin", stdin="\n".join(other)
    )
    assert wrong.returncode == 2
    assert "not this office's root key" in wrong.stderr

    shares = "\n".join(out["shares"]["root"][1:]) + "\n"
    approved = run(
        tmp_path, "directory", "approve", "--all", "--root-shares-stdin", stdin=shares
    )
    assert approved.returncode == 0, approved.stderr
    # The second was proposed against the head before the first: unsigned, it follows.
    assert "2 of 2 changes applied" in approved.stdout
    assert run(tmp_path, "directory", "verify").stdout.strip().endswith("intact, 6 entries")
    assert json.loads(
        run(tmp_path, "directory", "pending", "--json").stdout.strip().splitlines()[-1]
    ) == []


def test_approve_needs_one_change_or_all(tmp_path: Path) -> None:
    installed(tmp_path)
    result = run(tmp_path, "directory", "approve", "--root-shares-stdin", stdin="x\n")
    assert result.returncode == 2
    assert "--id" in result.stderr
