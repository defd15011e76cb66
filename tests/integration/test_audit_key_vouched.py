"""The audit log's checkpoint signing key, vouched for by the office root in the recipient
directory (SECURITY.md, "Audit log"): witnesses and `audit verify` hold checkpoints to the key
the root signed for, not to whatever key the server's secrets hold today."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import pytest

import crypto
from intake import datadir
from intake.accounts import directory
from intake.casework import holders
from intake.errors import InvalidInput
from intake.storage import db
from tests.support.instance import Instance, quietline_environ


def _cli(made: Instance, *args: str) -> subprocess.CompletedProcess[str]:
    url = None if made.settings.is_sqlite else made.settings.database_url
    return subprocess.run(
        [sys.executable, "-m", "intake.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, **quietline_environ(made.settings.data_dir, url)},
    )


def _proposed_change(output: str) -> str:
    return output.split("proposed as directory change ")[1].split(":")[0]


async def test_the_root_vouches_for_the_audit_key_and_verify_holds_checkpoints_to_it(
    seeded: Instance,
) -> None:
    made = seeded
    assert "does not vouch for yet" in _cli(made, "audit", "verify").stderr
    proposed = _cli(made, "audit", "public-key", "--propose")
    assert proposed.returncode == 0, proposed.stderr
    change_id = _proposed_change(proposed.stdout)

    # An administrator, or any officer, cannot vouch for it: only the root signs this entry.
    async with made.runtime.sessions() as session:
        (pending,) = [c for c in await directory.pending_changes(session) if c.id == change_id]
    assert pending.kind == "audit"
    officer = crypto.generate_signing_keypair()
    with pytest.raises(InvalidInput):
        async with db.transaction(made.runtime.sessions) as session:
            await holders.approve_change(
                session, made.runtime, change_id, signer="someone", signing_private=officer.private
            )
    async with db.transaction(made.runtime.sessions) as session:
        outcome = await holders.approve_change(
            session, made.runtime, change_id, signer="root", signing_private=made.root_private
        )
    assert outcome == "applied"
    assert _cli(made, "audit", "checkpoint").returncode == 0
    verified = _cli(made, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert "does not vouch" not in verified.stderr

    # Whoever swaps the server's signing key (to sign checkpoints of a rewritten log) is named.
    path = made.settings.data_dir / datadir.SECRETS_FILE
    stored = json.loads(path.read_text())
    other = crypto.generate_signing_keypair().private
    stored[datadir.AUDIT_SIGNING_ENTRY] = base64.urlsafe_b64encode(other).decode().rstrip("=")
    path.write_text(json.dumps(stored))
    swapped = _cli(made, "audit", "verify")
    assert swapped.returncode == 1
    assert "not the one the recipient directory vouches for" in swapped.stderr
