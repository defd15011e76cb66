"""``quietline keys ceremony`` and ``keys install``, run as an operator would."""

from __future__ import annotations

import itertools
import json
import sqlite3
from pathlib import Path

import crypto
from intake.accounts.ceremony import parse_public
from tests.integration.test_cli import run


def ceremony_offline(tmp_path: Path, *extra: str) -> dict:
    result = run(tmp_path / "offline", "keys", "ceremony", "--offline", "--json", *extra)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def install_args(out: dict, genesis: Path) -> list[str]:
    genesis.write_text(json.dumps(out["genesis"]))
    args = ["keys", "install", "--root", out["root"], "--genesis", str(genesis)]
    for group, public in out["recovery"].items():
        args += ["--recovery", f"{group}={public}"]
    return args


def test_the_offline_ceremony_prints_keys_and_shares_and_stores_nothing(tmp_path: Path) -> None:
    out = ceremony_offline(
        tmp_path, "--custodians", "4", "--threshold", "3", "--roles", "alternate=a,b,c"
    )
    assert not (tmp_path / "offline").exists()
    assert set(out["recovery"]) == {"solicitor", "alternate"}
    assert set(out["shares"]) == {"root", "solicitor", "alternate"}
    assert out["custodians"]["alternate"] == ["a", "b", "c"]
    assert out["custodians"]["solicitor"][0] == "solicitor-custodian-1"
    assert len(out["shares"]["solicitor"]) == 4
    for group in ("solicitor", "alternate"):
        for chosen in itertools.combinations(out["shares"][group], 3):
            private = crypto.combine_shares(chosen)
            assert crypto.public_key_of(private) == parse_public(out["recovery"][group])
    root = crypto.combine_shares(out["shares"]["root"][:3])
    assert crypto.signing_public_key_of(root) == parse_public(out["root"])


def test_a_plan_the_default_group_could_complete_is_refused(tmp_path: Path) -> None:
    result = run(
        tmp_path / "offline",
        "keys", "ceremony", "--offline",
        "--roles", "solicitor=clerk,deputy,auditor",
        "--roles", "alternate=clerk,deputy,mayor",
    )  # fmt: skip
    assert result.returncode == 2
    assert "would be enough to open alternate" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_custodian_numbers_and_unknown_groups_are_cli_errors(tmp_path: Path) -> None:
    for extra in (["--threshold", "5"], ["--roles", "nowhere=a,b"], ["--roles", "solicitor"]):
        result = run(tmp_path / "offline", "keys", "ceremony", "--offline", *extra)
        assert result.returncode == 2, extra
        assert result.stderr.startswith("quietline: error:"), result.stderr


def test_install_pins_the_root_and_begins_the_directory_once(tmp_path: Path) -> None:
    out = ceremony_offline(tmp_path)
    server = tmp_path / "server"
    args = install_args(out, tmp_path / "genesis.json")
    first = run(server, *args)
    assert first.returncode == 0, first.stderr
    assert "begins with 4 root-signed entries" in first.stdout
    secrets = json.loads((server / "server-secrets.json").read_text())
    assert parse_public(secrets["root_public_key"]) == parse_public(out["root"])
    with sqlite3.connect(server / "quietline.db") as db:
        assert db.execute("SELECT count(*) FROM directoryentry").fetchone() == (4,)
        # The root key's public half is not in the database.
        dumped = "\n".join(db.iterdump())
        assert parse_public(out["root"]).hex() not in dumped
    again = run(server, *args)
    assert again.returncode == 0, again.stderr
    assert "nothing was added" in again.stdout


def test_install_refuses_a_recovery_key_the_entries_do_not_declare(tmp_path: Path) -> None:
    out = ceremony_offline(tmp_path)
    out["recovery"]["alternate"] = ceremony_offline(tmp_path)["recovery"]["alternate"]
    result = run(tmp_path / "server", *install_args(out, tmp_path / "genesis.json"))
    assert result.returncode == 2
    assert "not the ones the ceremony's entries declare" in result.stderr


def test_install_refuses_entries_another_root_signed(tmp_path: Path) -> None:
    out = ceremony_offline(tmp_path)
    out["root"] = ceremony_offline(tmp_path)["root"]
    result = run(tmp_path / "server", *install_args(out, tmp_path / "genesis.json"))
    assert result.returncode == 2
    assert "do not verify against this root key" in result.stderr


def test_a_second_root_is_refused(tmp_path: Path) -> None:
    server = tmp_path / "server"
    first = run(server, *install_args(ceremony_offline(tmp_path), tmp_path / "g1.json"))
    assert first.returncode == 0, first.stderr
    second = run(server, *install_args(ceremony_offline(tmp_path), tmp_path / "g2.json"))
    assert second.returncode == 2
    assert "different office root key is pinned" in second.stderr


def test_install_refuses_genesis_that_is_not_json(tmp_path: Path) -> None:
    out = ceremony_offline(tmp_path)
    args = install_args(out, tmp_path / "genesis.json")
    (tmp_path / "genesis.json").write_text("[{]")
    result = run(tmp_path / "server", *args)
    assert result.returncode == 2
    assert "not the JSON the ceremony printed" in result.stderr


def test_ceremony_install_does_both_and_prints_the_shares_once(tmp_path: Path) -> None:
    result = run(tmp_path, "keys", "ceremony", "--install", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    secrets = json.loads((tmp_path / "server-secrets.json").read_text())
    assert parse_public(secrets["root_public_key"]) == parse_public(out["root"])
    with sqlite3.connect(tmp_path / "quietline.db") as db:
        dumped = "\n".join(db.iterdump())
    for shares in out["shares"].values():
        for share in shares:
            assert share not in dumped
