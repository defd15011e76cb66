"""Recovery custody split between people, per group (SECURITY.md, "Recovery").

Each group's recovery key exists only as its custodians' SLIP-39 shares. Every recovery
operation (an export, a case given again after a reset or when no holder is left) takes k of
them, is checked against the verified directory's key for the case's group, is refused while an
active staff member still holds the case unless a reason is given, and is audited. A group's key
is replaced only on purpose (``--replace``) and only by a directory change the root signs.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import anyio.to_thread
import httpx
import pytest
from sqlalchemy import delete
from sqlmodel import col, select

import crypto
from intake.accounts import custody, directory, keyring, sessions
from intake.accounts.ceremony import CustodianPlan, format_public
from intake.casework import export, holders, recovery
from intake.errors import Forbidden, InvalidInput
from intake.storage import db
from intake.storage.models import AuditEvent, Case, CaseKey, RecoveryKey
from intake.web import export_file
from tests.support.casefactory import data_key_with, file_report
from tests.support.instance import Instance, quietline_environ, set_labels
from tests.support.staffing import sign_in

OLIVIA, OTTO, ADMIN = "officer1@example.org", "officer3@example.org", "admin@example.org"


def shares_of(made: Instance, group: str, *, threshold: int = 2, count: int = 3) -> list[str]:
    """The group's recovery key split among custodians, as the ceremony hands it out."""
    return crypto.split_secret(made.recovery_privates[group], threshold=threshold, shares=count)


async def _no_holder_left(made: Instance, case: Case) -> None:
    """Every staff copy gone, as after each holder was disabled or reset."""
    async with db.transaction(made.runtime.sessions) as session:
        await session.exec(
            delete(CaseKey)  # type: ignore[call-overload]
            .where(col(CaseKey.case_id) == case.id)
            .where(col(CaseKey.staff_id).is_not(None))
        )


async def _events(made: Instance, action: str) -> list[AuditEvent]:
    async with made.runtime.sessions() as session:
        found = await session.exec(
            select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.seq))
        )
        return list(found.all())


async def _html(bundle: export.CaseExport) -> str:
    return "".join([piece async for piece in export_file.html_pieces(bundle)])


async def test_a_recovery_export_takes_k_shares(seeded: Instance) -> None:
    made = seeded
    _, case = await file_report(made.runtime, body="Ledger entries moved after the audit")
    await _no_holder_left(made, case)
    shares = shares_of(made, "solicitor")
    with pytest.raises(InvalidInput, match="Too few recovery shares"):
        await export.export_recovered(
            made.runtime, ref=case.ref, shares=shares[:1], force_reason=None
        )
    assert await _events(made, "case.export") == []
    bundle = await export.export_recovered(
        made.runtime, ref=case.ref, shares=shares[1:], force_reason=None
    )
    assert "Ledger entries moved after the audit" in await _html(bundle)
    [event] = await _events(made, "case.export")
    assert (event.actor, event.case_ref) == ("cli", case.ref)
    assert json.loads(event.detail) == {
        "by": "recovery shares",
        "group": "solicitor",
        "reason": None,
        "format": "html",
    }


async def test_shares_of_another_key_or_mistyped_open_nothing(seeded: Instance) -> None:
    made = seeded
    _, case = await file_report(made.runtime)
    await _no_holder_left(made, case)
    other_group = shares_of(made, "alternate")
    with pytest.raises(custody.NotThisGroupsKey):
        await export.export_recovered(
            made.runtime, ref=case.ref, shares=other_group[:2], force_reason=None
        )
    shares = shares_of(made, "solicitor")
    words = shares[0].split()
    words[5] = "academic" if words[5] != "academic" else "acid"
    with pytest.raises(InvalidInput, match="mistyped"):
        await export.export_recovered(
            made.runtime, ref=case.ref, shares=[" ".join(words), shares[1]], force_reason=None
        )
    mixed = [shares[0], other_group[1]]
    with pytest.raises(InvalidInput):
        await export.export_recovered(made.runtime, ref=case.ref, shares=mixed, force_reason=None)
    # A key of the right shape written into the database is no recovery key of the group.
    stranger = crypto.generate_keypair()
    async with db.transaction(made.runtime.sessions) as session:
        session.add(RecoveryKey(public_key=stranger.public))
    with pytest.raises(custody.NotThisGroupsKey):
        await export.export_recovered(
            made.runtime,
            ref=case.ref,
            shares=crypto.split_secret(stranger.private, threshold=2, shares=2),
            force_reason=None,
        )
    assert await _events(made, "case.export") == []


async def test_a_case_still_held_is_recovered_only_with_a_reason(seeded: Instance) -> None:
    made = seeded
    _, case = await file_report(made.runtime, body="Still with the office")
    shares = shares_of(made, "solicitor")[:2]
    with pytest.raises(Forbidden, match="--force"):
        await export.export_recovered(made.runtime, ref=case.ref, shares=shares, force_reason=None)
    with pytest.raises(InvalidInput):
        await export.export_recovered(made.runtime, ref=case.ref, shares=shares, force_reason="  ")
    assert await _events(made, "case.export") == []
    reason = "Court order 2026-114: counsel needs the file while the officers are on leave"
    bundle = await export.export_recovered(
        made.runtime, ref=case.ref, shares=shares, force_reason=reason
    )
    assert "Still with the office" in await _html(bundle)
    [event] = await _events(made, "case.export")
    assert (event.actor, event.case_ref) == ("cli", case.ref)
    assert json.loads(event.detail)["reason"] == reason
    # No run of a share's words (a single word may be an everyday one: the reason has some).
    words = shares[0].split()
    assert not any(" ".join(words[i : i + 3]) in event.detail for i in range(len(words) - 2))


async def test_a_case_is_given_again_after_a_reset_with_k_shares(seeded: Instance) -> None:
    made = seeded
    await set_labels(made, {OLIVIA: "Olivia"})
    async with made.runtime.sessions() as session:
        olivia = await keyring.staff_by_email(session, OLIVIA)
    assert olivia is not None
    _, case = await file_report(made.runtime)
    _, excluding = await file_report(made.runtime, excluded_staff_ids=(olivia.id,))
    _, about_office = await file_report(made.runtime, involves_office=True)
    for each in (case, excluding, about_office):
        await _no_holder_left(made, each)
    shares = shares_of(made, "solicitor")[:2]
    person = await recovery.regrant(
        made.runtime, ref=case.ref, email=OLIVIA, shares=shares, force_reason=None
    )
    assert person.email == OLIVIA
    assert await data_key_with(made.runtime, case.id, made.staff_private[OLIVIA]) is not None
    [grant] = await _events(made, "case.grant")
    assert grant.actor == "cli" and json.loads(grant.detail)["by"] == "recovery shares"
    # Given once, the case has a holder again: a second recovery needs a reason.
    with pytest.raises(Forbidden, match="--force"):
        await recovery.regrant(
            made.runtime, ref=case.ref, email=OTTO, shares=shares, force_reason=None
        )
    # The grant's rules hold whatever the shares: the person the reporter excluded, and a
    # member of the office the report is about, never receive it.
    with pytest.raises(Forbidden, match="excluded"):
        await recovery.regrant(
            made.runtime, ref=excluding.ref, email=OLIVIA, shares=shares, force_reason=None
        )
    alternate = shares_of(made, "alternate")[:2]
    with pytest.raises(Forbidden, match="involves"):
        await recovery.regrant(
            made.runtime, ref=about_office.ref, email=OLIVIA, shares=alternate, force_reason=None
        )
    # The other group's shares do not open a case routed to this one.
    with pytest.raises(custody.NotThisGroupsKey):
        await recovery.regrant(
            made.runtime, ref=excluding.ref, email=OTTO, shares=alternate, force_reason=None
        )
    for each in (excluding, about_office):
        assert await data_key_with(made.runtime, each.id, made.staff_private[OLIVIA]) is None
    assert len(await _events(made, "case.grant")) == 1


async def _signed_in(made: Instance, http: httpx.AsyncClient, email: str) -> sessions.SignedIn:
    client = await sign_in(made, http, email)
    return await sessions.authenticate(made.runtime, client.cookie)


async def test_a_replaced_recovery_key_is_a_root_signed_directory_change(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    made = seeded
    runtime = made.runtime
    _, before = await file_report(runtime)
    new = crypto.generate_keypair()
    plan = CustodianPlan(("city-solicitor", "deputy-solicitor", "city-clerk"), 2)

    async def propose(*, replace: bool) -> str:
        async with db.transaction(runtime.sessions) as session:
            change = await custody.propose_recovery(
                session,
                runtime,
                group="solicitor",
                public=new.public,
                plan=plan,
                replace=replace,
                proposer="cli",
            )
            return change.id

    with pytest.raises(InvalidInput, match="--replace"):
        await propose(replace=False)
    change_id = await propose(replace=True)
    # Proposed, not applied: reports are still sealed to the key in force.
    _, pending = await file_report(runtime)
    assert await data_key_with(runtime, pending.id, new.private, recovery=True) is None
    admin = await _signed_in(made, client, ADMIN)
    with pytest.raises(InvalidInput):
        async with db.transaction(runtime.sessions) as session:
            await holders.approve_change(
                session,
                runtime,
                change_id,
                signer=admin.staff.id,
                signing_private=admin.signing_key or b"",
            )
    async with db.transaction(runtime.sessions) as session:
        outcome = await holders.approve_change(
            session, runtime, change_id, signer="root", signing_private=made.root_private
        )
    assert outcome == "applied"
    _, after = await file_report(runtime)
    old = made.recovery_privates["solicitor"]
    assert await data_key_with(runtime, after.id, new.private, recovery=True) is not None
    assert await data_key_with(runtime, after.id, old, recovery=True) is None
    # The old key's shares still open the cases sealed to it; the new key's open the new ones.
    await _no_holder_left(made, before)
    await export.export_recovered(
        runtime, ref=before.ref, shares=shares_of(made, "solicitor")[:2], force_reason=None
    )
    await _no_holder_left(made, after)
    new_shares = crypto.split_secret(new.private, threshold=2, shares=3)
    await export.export_recovered(runtime, ref=after.ref, shares=new_shares[:2], force_reason=None)


# --- the commands, as the clerk and the custodians run them ------------------------------------


def _cli(made: Instance, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    url = made.settings.database_url
    environ = quietline_environ(
        made.settings.data_dir, url if url.startswith("postgresql") else None
    )
    return subprocess.run(
        [sys.executable, "-m", "intake.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **environ},
        timeout=120,
        check=False,
    )


async def cli(made: Instance, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return await anyio.to_thread.run_sync(functools.partial(_cli, made, *args, stdin=stdin))


async def test_the_recovery_commands(seeded: Instance, tmp_path: Path) -> None:
    made = seeded
    _, case = await file_report(made.runtime, body="Overtime signed off twice")
    shares = shares_of(made, "solicitor")
    out = tmp_path / "case.html"
    export_args = ("export", "--ref", case.ref, "--out", str(out), "--recovery-shares-stdin")

    too_few = await cli(made, *export_args, stdin=shares[0] + "\n")
    assert too_few.returncode == 2 and "Too few recovery shares" in too_few.stderr
    assert not out.exists()
    held = await cli(made, *export_args, stdin="\n".join(shares[:2]))
    assert held.returncode == 2 and "--force" in held.stderr and not out.exists()
    forced = await cli(
        made, *export_args, "--force", "Counsel's request of 5 May", stdin="\n".join(shares[1:])
    )
    assert forced.returncode == 0, forced.stderr
    assert "Overtime signed off twice" in out.read_text()
    assert oct(out.stat().st_mode & 0o777) == "0o600"

    checked = await cli(
        made,
        "keys", "check-recovery", "--group", "solicitor", "--recovery-shares-stdin",
        stdin="\n".join(shares[:2]),
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    assert "the recovery key in force of the group solicitor" in checked.stdout
    assert "opens 1 of the 1 case keys" in checked.stdout
    foreign = await cli(
        made,
        "keys", "check-recovery", "--group", "solicitor", "--recovery-shares-stdin",
        stdin="\n".join(shares_of(made, "alternate")[:2]),
    )  # fmt: skip
    assert foreign.returncode == 1 and "do not open" in foreign.stderr

    # On the offline machine: a new key for the group, split, nothing stored.
    offline = await cli(
        made,
        "--data-dir", str(tmp_path / "nowhere"),
        "keys", "recovery", "--offline", "--group", "solicitor",
        "--custodians", "city-solicitor,deputy-solicitor,city-clerk", "--threshold", "2",
    )  # fmt: skip
    assert offline.returncode == 0, offline.stderr
    assert not (tmp_path / "nowhere").exists()
    public = re.search(r"public: (\S+)", offline.stdout).group(1)
    new_shares = re.findall(r"share for [\w-]+: (.+)", offline.stdout)
    assert len(new_shares) == 3
    new_private = crypto.combine_shares(new_shares[1:])
    assert format_public(crypto.public_key_of(new_private)) == public

    propose = ("keys", "recovery", "--group", "solicitor", "--public", public)
    silent = await cli(made, *propose)
    assert silent.returncode == 2 and "--replace" in silent.stderr
    proposed = await cli(made, *propose, "--replace")
    assert proposed.returncode == 0, proposed.stderr
    change_id = re.search(r"directory change (\w+)", proposed.stdout).group(1)
    root_shares = crypto.split_secret(made.root_private, threshold=2, shares=3)
    approved = await cli(
        made, "directory", "approve", "--id", change_id, "--root-shares-stdin",
        stdin="\n".join(root_shares[:2]),
    )  # fmt: skip
    assert approved.returncode == 0, approved.stderr
    assert f"{change_id}: applied" in approved.stdout

    _, after = await file_report(made.runtime)
    assert await data_key_with(made.runtime, after.id, new_private, recovery=True) is not None
    old = made.recovery_privates["solicitor"]
    assert await data_key_with(made.runtime, after.id, old, recovery=True) is None
    earlier = await cli(
        made,
        "keys", "check-recovery", "--group", "solicitor", "--recovery-shares-stdin",
        stdin="\n".join(shares[:2]),
    )  # fmt: skip
    assert "an earlier recovery key of the group solicitor" in earlier.stdout

    # Nothing secret went into the audit log, and its chain verifies.
    verified = await cli(made, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    async with made.runtime.sessions() as session:
        details = " ".join(e.detail for e in (await session.exec(select(AuditEvent))).all())
    for share in [*shares, *new_shares, *root_shares]:
        assert share not in details and share.split()[-1] not in details.split()


async def test_the_guidance_names_who_could_open_a_report_together(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    """The reporter is told, in both languages, which custodian roles of each group could open a
    report together: as the verified directory says now, not as the office once wrote it."""
    english = (await client.get("/guide/process")).text
    assert "any 2 of these people acting together" in english
    assert "city solicitor, deputy solicitor, city clerk" in english
    assert "city auditor, council chair, city clerk" in english
    french = (await client.get("/guide/process", params={"lang": "fr-CA"})).text
    assert "2 de ces personnes" in french
    assert "city auditor, council chair, city clerk" in french
    new = crypto.generate_keypair()
    runtime = seeded.runtime
    async with db.transaction(runtime.sessions) as session:
        change = await custody.propose_recovery(
            session,
            runtime,
            group="alternate",
            public=new.public,
            plan=CustodianPlan(("city-auditor", "council-chair", "ombudsperson"), 3),
            replace=True,
            proposer="cli",
        )
    assert "ombudsperson" not in (await client.get("/guide/process")).text  # not yet signed
    async with db.transaction(runtime.sessions) as session:
        await holders.approve_change(
            session, runtime, change.id, signer="root", signing_private=seeded.root_private
        )
    english = (await client.get("/guide/process")).text
    assert "any 3 of these people acting together" in english
    assert "city auditor, council chair, ombudsperson" in english


async def test_a_replacement_the_default_groups_custodians_could_complete_is_refused(
    seeded: Instance,
) -> None:
    runtime = seeded.runtime
    with pytest.raises(InvalidInput, match="would be enough to open alternate"):
        async with db.transaction(runtime.sessions) as session:
            await custody.propose_recovery(
                session,
                runtime,
                group="alternate",
                public=crypto.generate_keypair().public,
                plan=CustodianPlan(("city-solicitor", "deputy-solicitor", "mayor"), 2),
                replace=True,
                proposer="cli",
            )
    async with runtime.sessions() as session:
        assert await directory.pending_changes(session) == []
