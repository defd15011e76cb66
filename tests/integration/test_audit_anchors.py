"""The audit log against whoever can write the database: a keyed chain, and signed checkpoints
kept outside it (the witness file, the witnesses' email) that name the first event rewritten,
reordered or removed, even by someone who also holds the server's secrets."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlmodel import col, select

from intake import datadir
from intake.accounts import instance, keyring
from intake.mail.compose import WITNESS_SUBJECT
from intake.mail.worker import MailWorker
from intake.operations import audit, audit_verify, checkpoints, maintenance, witnesses
from intake.runtime import Runtime, open_runtime
from intake.storage import db
from intake.storage.models import AuditCheckpoint, AuditEvent, Outbox
from tests.support import casefactory
from tests.support.instance import Instance, quietline_environ
from tests.support.mail import SmtpServer
from tests.support.staffing import sign_in

WITNESSES = ("clerk@city.example", "auditor@city.example")


def quietline(made: Instance, *args: str) -> subprocess.CompletedProcess[str]:
    """``quietline ARGS`` as the operator runs it, against this instance's database."""
    environ = quietline_environ(made.settings.data_dir, made.settings.database_url)
    return subprocess.run(
        [sys.executable, "-m", "intake.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **environ},
    )


async def _history(made: Instance, client: httpx.AsyncClient) -> tuple[str, int]:
    """Staff work on a case through the API; the case's reference and the grant's event."""
    _, case = await casefactory.file_report(made.runtime, body="Zebra-7f3a9c told Mr Quimby")
    async with made.runtime.sessions() as session:
        investigator = await keyring.staff_by_email(session, "investigator@example.org")
    assert investigator is not None
    officer = await sign_in(made, client, "officer1@example.org")
    assert (await officer.get(f"/api/v1/cases/{case.ref}")).status_code == 200
    granted = await officer.post(f"/api/v1/cases/{case.ref}/grants", {"staff_id": investigator.id})
    assert granted.status_code == 201, granted.text
    assert (await officer.post(f"/api/v1/cases/{case.ref}/notes", {"body": "n"})).status_code == 201
    assert (await officer.get(f"/api/v1/cases/{case.ref}")).status_code == 200
    assert (await officer.get(f"/api/v1/cases/{case.ref}")).status_code == 200
    await checkpoints.written()
    async with made.runtime.sessions() as session:
        grant = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "case.grant"))
        ).one()
    return case.ref, grant.seq


async def _events(made: Instance) -> list[AuditEvent]:
    async with made.runtime.sessions() as session:
        return list((await session.exec(select(AuditEvent).order_by(col(AuditEvent.seq)))).all())


async def _rewrite(made: Instance, seq: int, *, key: bytes | None, drop_last: int = 0) -> None:
    """Someone with the database: change the actor of event ``seq``, recompute every link from
    there (with ``key``, or as the unkeyed chain when they lack it), delete the last events."""
    events = await _events(made)
    kept = events[: len(events) - drop_last] if drop_last else events
    previous = audit.GENESIS
    async with db.transaction(made.runtime.sessions) as session:
        for event in events[len(kept) :]:
            await session.exec(text(f"DELETE FROM auditevent WHERE seq = {event.seq}"))
        for event in kept:
            if event.seq < seq:
                previous = event.hash
                continue
            if event.seq == seq:
                event.actor = "officer2@example.org"
            event.prev_hash = previous
            if key is None:
                event.key_id = None
                event.hash = audit.chain_hash(event)
            else:
                event.key_id = events[0].key_id  # the key id the untouched events name
                event.hash = audit.link_of(event, key)
            previous = event.hash
            await session.exec(
                text(
                    "UPDATE auditevent SET actor = :actor, prev_hash = :prev, hash = :hash, "
                    "key_id = :key_id WHERE seq = :seq"
                ).bindparams(
                    actor=event.actor,
                    prev=event.prev_hash,
                    hash=event.hash,
                    key_id=event.key_id,
                    seq=event.seq,
                )
            )


async def _resign_stored_checkpoints(made: Instance) -> None:
    """With the signing key too: the database's own checkpoints made to fit the rewrite."""
    anchors = made.runtime.audit
    assert anchors is not None
    events = {event.seq: event for event in await _events(made)}
    async with db.transaction(made.runtime.sessions) as session:
        await session.exec(text("DELETE FROM auditcheckpoint"))
        for seq, event in events.items():
            made_again = checkpoints.make(
                anchors.secrets.signing_key,
                count=seq,
                head=event.hash,
                at=event.at,
                key_id=anchors.secrets.current[0],
            )
            session.add(
                AuditCheckpoint(
                    count=seq,
                    head=event.hash,
                    at=made_again.at,
                    key_id=made_again.key_id,
                    text=made_again.text(),
                )
            )


async def test_a_rewrite_without_the_mac_key_fails_verify_at_that_event(
    seeded: Instance, client: httpx.AsyncClient
) -> None:
    _, grant = await _history(seeded, client)
    assert quietline(seeded, "audit", "verify").returncode == 0
    # The witness copies are out of this attacker's reach, but the chain must hold on its own.
    witness_file = seeded.settings.audit_witness_file
    assert witness_file is not None and witness_file.exists()
    witness_file.unlink()
    async with db.transaction(seeded.runtime.sessions) as session:
        await session.exec(text("DELETE FROM auditcheckpoint"))

    await _rewrite(seeded, grant, key=None)  # the plain SHA-256 chain, recomputed
    result = quietline(seeded, "audit", "verify")
    assert result.returncode == 1
    assert f"BROKEN at event {grant}" in result.stderr

    await _rewrite(seeded, grant, key=b"guessed by the attacker, 32 byte")
    result = quietline(seeded, "audit", "verify")
    assert result.returncode == 1
    assert f"BROKEN at event {grant}" in result.stderr
    assert "MAC" in result.stderr


async def test_a_rewrite_with_every_secret_is_named_by_the_witness_file(
    seeded: Instance, client: httpx.AsyncClient
) -> None:
    _, grant = await _history(seeded, client)
    anchors = seeded.runtime.audit
    assert anchors is not None
    await _rewrite(seeded, grant, key=anchors.secrets.current[1], drop_last=2)
    await _resign_stored_checkpoints(seeded)
    async with seeded.runtime.sessions() as session:
        inside_only = await audit_verify.verify(
            session, given=[], signing_public=anchors.secrets.signing_public
        )
    assert inside_only.broken_at == grant  # the witness file is read by default

    result = quietline(seeded, "audit", "verify")
    assert result.returncode == 1, result.stdout
    assert f"BROKEN at event {grant}: event {grant} differs" in result.stderr
    assert "the witness file" in result.stderr


async def test_a_rewrite_with_every_secret_is_caught_by_a_pasted_witness_email(
    seeded: Instance, client: httpx.AsyncClient, smtp_servers, tmp_path: Path
) -> None:
    _, grant = await _history(seeded, client)
    events_then = len(await _events(seeded))
    email = await _witness_emails(seeded, smtp_servers(), count=len(WITNESSES))
    pasted = tmp_path / "pasted.txt"
    pasted.write_text("> " + email[0].body.replace("\n", "\n> "))  # quoted, as forwarded

    anchors = seeded.runtime.audit
    assert anchors is not None
    await _rewrite(seeded, grant, key=anchors.secrets.current[1], drop_last=2)
    await _resign_stored_checkpoints(seeded)
    witness_file = seeded.settings.audit_witness_file
    assert witness_file is not None
    witness_file.unlink()  # this attacker could reach the witness file too
    inside = quietline(seeded, "audit", "verify")
    assert inside.returncode == 0  # nothing inside tells, but the missing file is pointed out
    assert "the witness file" in inside.stderr and "holds no checkpoint" in inside.stderr

    result = quietline(seeded, "audit", "verify", "--checkpoints", str(pasted))
    assert result.returncode == 1
    first_missing = events_then - 1
    assert f"BROKEN at event {first_missing}: event {first_missing} is missing" in result.stderr
    assert str(pasted) in result.stderr and f"counted {events_then} events" in result.stderr


async def _witness_emails(made: Instance, server: SmtpServer, *, count: int) -> list:  # type: ignore[type-arg]
    runtime: Runtime = dataclasses.replace(
        made.runtime,
        settings=dataclasses.replace(made.settings, audit_witnesses=WITNESSES, **server.settings()),
    )
    assert await witnesses.mail_witnesses(runtime, once_a_day=False) == count
    await MailWorker(runtime).run_once()
    # The witnesses' emails only: past the digest hour the same round may send a digest too.
    every = await server.arrived(count)
    witnessed = [item for item in every if item.message["Subject"] == WITNESS_SUBJECT]
    while len(witnessed) < count:
        every = await server.arrived(len(every) + 1)
        witnessed = [item for item in every if item.message["Subject"] == WITNESS_SUBJECT]
    return witnessed


async def test_the_witness_email_holds_the_checkpoint_and_nothing_about_a_case_or_person(
    seeded: Instance, client: httpx.AsyncClient, smtp_servers
) -> None:
    ref, _ = await _history(seeded, client)
    received = await _witness_emails(seeded, smtp_servers(), count=len(WITNESSES))
    assert sorted(address for item in received for address in item.rcpt_tos) == sorted(WITNESSES)
    anchors = seeded.runtime.audit
    assert anchors is not None
    for item in received:
        found, unreadable = checkpoints.parse(item.body, "email")
        assert len(found) == 1 and not unreadable
        assert found[0].signature_holds(anchors.secrets.signing_public)
        assert found[0].count == len(await _events(seeded))
        raw = item.data.decode("ascii", errors="replace") + item.body
        for secret in (ref, "Zebra", "financial", "Misuse", "example.org", "Officer", "grant"):
            assert secret.lower() not in raw.lower(), secret
        assert item.message["To"] in WITNESSES and "," not in item.message["To"]
        assert item.message["Subject"] == WITNESS_SUBJECT
        words = " ".join(item.body.split())  # as read, whatever the line breaks
        assert "Please keep this email" in words and "Veuillez conserver ce courriel" in words
    # Once a day across processes: a second round the same day queues nothing.
    runtime = dataclasses.replace(
        seeded.runtime, settings=dataclasses.replace(seeded.settings, audit_witnesses=WITNESSES)
    )
    hour = seeded.runtime.now().hour
    runtime = dataclasses.replace(
        runtime, settings=dataclasses.replace(runtime.settings, mail_digest_hour=hour)
    )
    assert await witnesses.mail_witnesses(runtime) == len(WITNESSES)
    assert await witnesses.mail_witnesses(runtime) == 0


async def test_every_case_event_is_checkpointed_to_the_witness_file_after_commit(
    seeded: Instance, client: httpx.AsyncClient
) -> None:
    await _history(seeded, client)
    witness_file = seeded.settings.audit_witness_file
    assert witness_file is not None
    found, unreadable = checkpoints.read_file(witness_file)
    case_events = [event.seq for event in await _events(seeded) if event.case_ref]
    assert [checkpoint.count for checkpoint in found] == case_events and not unreadable
    before = witness_file.read_bytes()

    class Refused(Exception):
        pass

    try:
        async with db.transaction(seeded.runtime.sessions) as session:
            await audit.record(session, actor="x@example.org", action="case.view", case_ref="QL-1")
            raise Refused
    except Refused:
        pass
    assert witness_file.read_bytes() == before  # a rolled-back event leaves no checkpoint
    made = await audit.checkpoint_now(seeded.runtime)  # the hourly one, with no new event
    assert made.count == len(await _events(seeded))
    assert witness_file.read_bytes().endswith(made.text().encode())


async def test_rotated_keys_keep_verifying_and_a_forged_checkpoint_is_refused(
    seeded: Instance, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    await _history(seeded, client)
    rotated = quietline(seeded, "audit", "rotate-key")
    assert rotated.returncode == 0 and "new audit MAC key" in rotated.stdout
    printed = quietline(seeded, "audit", "checkpoint")  # a new process: the new key
    assert printed.returncode == 0
    made, _ = checkpoints.parse(printed.stdout, "stdout")
    events = await _events(seeded)
    assert made[0].count == len(events)
    result = quietline(seeded, "audit", "verify")
    assert result.returncode == 0, result.stderr
    assert f"{len(events)} events" in result.stdout

    forged = tmp_path / "forged.txt"
    forged.write_text(printed.stdout.replace(f"count: {made[0].count}", "count: 1"))
    result = quietline(seeded, "audit", "verify", "--checkpoints", str(forged))
    assert result.returncode == 1 and "not signed by this instance's audit key" in result.stderr


async def test_checkpoint_files_that_are_not_there_or_hold_none_are_clear_errors(
    seeded: Instance, tmp_path: Path
) -> None:
    missing = quietline(seeded, "audit", "verify", "--checkpoints", str(tmp_path / "nope.txt"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    empty = tmp_path / "empty.txt"
    empty.write_text("Hello,\nnothing here\n")
    result = quietline(seeded, "audit", "verify", "--checkpoints", str(empty))
    assert result.returncode == 2 and "holds no audit checkpoint" in result.stderr
    key = quietline(seeded, "audit", "verify", "--public-key", "not a key")
    assert key.returncode == 2 and "--public-key" in key.stderr
    assert "Traceback" not in missing.stderr + result.stderr + key.stderr
    # The public key printed is the one checkpoints verify with.
    printed = quietline(seeded, "audit", "public-key")
    assert printed.returncode == 0
    result = quietline(seeded, "audit", "verify", "--public-key", printed.stdout.strip())
    assert result.returncode == 0, result.stderr


async def test_an_upgraded_log_keeps_its_unkeyed_start_and_no_more(seeded: Instance) -> None:
    """Events from before the keyed chain verify as the old SHA-256 chain; turning later events
    into unkeyed ones, whose links anyone can compute, is caught without any checkpoint."""
    secrets_file = seeded.settings.data_dir / datadir.SECRETS_FILE
    stored = json.loads(secrets_file.read_text())
    del stored[datadir.AUDIT_UNKEYED_ENTRY]  # as before the upgrade
    secrets_file.write_text(json.dumps(stored))
    previous = audit.GENESIS
    async with db.transaction(seeded.runtime.sessions) as session:
        await session.exec(text("DELETE FROM auditevent"))
        for seq in (1, 2, 3):
            event = AuditEvent(
                seq=seq,
                at=seeded.runtime.now(),
                actor="officer1@example.org",
                action="case.view",
                case_ref=f"QL-{seq}",
                prev_hash=previous,
                hash="",
            )
            event.hash = audit.chain_hash(event)
            previous = event.hash
            session.add(event)
    upgraded = open_runtime(seeded.settings)
    try:
        await instance.initialise(upgraded)
        async with db.transaction(upgraded.sessions) as session:
            await audit.record(session, actor="officer1@example.org", action="staff.sign_in")
            await audit.record(
                session, actor="officer1@example.org", action="case.view", case_ref="QL-9"
            )
        async with upgraded.sessions() as session:
            result = await audit_verify.verify(session)
        assert result.ok and result.events == 5 and result.legacy == 3

        async with db.transaction(upgraded.sessions) as session:
            for event in (
                await session.exec(select(AuditEvent).order_by(col(AuditEvent.seq)))
            ).all():
                if event.seq > 3:
                    event.key_id = None
                    event.hash = audit.chain_hash(event)
                    session.add(event)
            await session.exec(text("DELETE FROM auditcheckpoint"))
        witness_file = seeded.settings.audit_witness_file
        assert witness_file is not None
        witness_file.unlink()
        async with upgraded.sessions() as session:
            result = await audit_verify.verify(session)
        assert result.broken_at == 4 and "no MAC key" in result.reason
    finally:
        await upgraded.close()


async def test_the_hourly_round_signs_the_head_and_mails_the_witnesses_once_a_day(
    seeded: Instance,
) -> None:
    hour = seeded.runtime.now().hour  # the office's zone is UTC here
    runtime = dataclasses.replace(
        seeded.runtime,
        settings=dataclasses.replace(
            seeded.settings, audit_witnesses=WITNESSES, mail_digest_hour=hour
        ),
    )
    async with runtime.sessions() as session:
        before = len(await audit_verify.stored_checkpoints(session))
    assert await maintenance.checkpoint_round(runtime) == len(WITNESSES)
    assert await maintenance.checkpoint_round(runtime) == 0  # today's emails went already
    async with runtime.sessions() as session:
        stored = await audit_verify.stored_checkpoints(session)
        queued = (await session.exec(select(Outbox).where(Outbox.kind == "witness"))).all()
    assert len(stored) == before + 3  # one a round, and the one mailed
    assert sorted(row.to_address for row in queued) == sorted(WITNESSES)
    assert all(row.staff_id is None for row in queued)
    mailed, _ = checkpoints.parse(queued[0].body, "outbox")
    assert [checkpoint.count for checkpoint in mailed] == [len(await _events(seeded))]
