"""Export: one case as a self-contained HTML file for a key holder; audited; refused to others."""

from __future__ import annotations

import base64
import functools
import os
import subprocess
import sys
from datetime import date

import anyio.to_thread
import pytest
from sqlmodel import col, select

from intake.accounts import keyring
from intake.casework import export
from intake.storage.models import AuditEvent
from tests.support.casefactory import add_entry, data_key_with, file_report
from tests.support.instance import Instance, quietline_environ


async def _case_with_history(seeded: Instance) -> tuple[str, dict[str, str]]:
    runtime = seeded.runtime
    markers = {
        "report": "Invoices <b>split</b> to stay under the limit",
        "reply": "Thank you; we are looking into it.",
        "reporter": "There is also a second contract.",
        "note": "Check the 2024 purchase orders first.",
    }
    _, case = await file_report(
        runtime, body=markers["report"], attachments=(("ledger.csv", b"vendor,amount\nA,9999\n"),)
    )
    data_key = await data_key_with(runtime, case.id, seeded.staff_private["officer1@example.org"])
    assert data_key is not None
    day = date(2025, 5, 2)
    await add_entry(
        runtime, case.id, data_key, kind="message", author="office", on=day, body=markers["reply"]
    )
    await add_entry(
        runtime,
        case.id,
        data_key,
        kind="message",
        author="reporter",
        on=day,
        body=markers["reporter"],
    )
    await add_entry(
        runtime, case.id, data_key, kind="note", author="office", on=day, body=markers["note"]
    )
    return case.ref, markers


async def _staff_id(seeded: Instance, email: str) -> str:
    async with seeded.runtime.sessions() as session:
        person = await keyring.staff_by_email(session, email)
        assert person is not None
        return person.id


async def _exports(seeded: Instance) -> list[AuditEvent]:
    async with seeded.runtime.sessions() as session:
        return list(
            (
                await session.exec(
                    select(AuditEvent)
                    .where(AuditEvent.action == "case.export")
                    .order_by(col(AuditEvent.seq))
                )
            ).all()
        )


async def test_a_key_holder_exports_a_whole_case_and_it_is_audited(seeded: Instance) -> None:
    ref, markers = await _case_with_history(seeded)
    email = "officer2@example.org"
    case, html = await export.export_case(
        seeded.runtime,
        ref=ref,
        private_key=seeded.staff_private[email],
        staff_id=await _staff_id(seeded, email),
        actor=email,
    )
    assert case.ref == ref
    assert "Invoices &lt;b&gt;split&lt;/b&gt; to stay under the limit" in html  # escaped
    for name in ("reply", "reporter", "note"):
        assert markers[name] in html
    assert "<script" not in html.lower() and "http" not in html.split("</head>")[1]
    embedded = base64.b64encode(b"vendor,amount\nA,9999\n").decode()
    assert f'download="ledger.csv" href="data:application/octet-stream;base64,{embedded}"' in html
    assert "default-src 'none'" in html
    events = await _exports(seeded)
    assert [(e.actor, e.case_ref) for e in events] == [(email, ref)]


async def test_export_is_refused_to_anyone_without_a_key(seeded: Instance) -> None:
    ref, markers = await _case_with_history(seeded)
    outsider = "alternate@example.org"  # another group: never sealed to
    with pytest.raises(export.NoKeyToCase):
        await export.export_case(
            seeded.runtime,
            ref=ref,
            private_key=seeded.staff_private[outsider],
            staff_id=await _staff_id(seeded, outsider),
            actor=outsider,
        )
    # Someone else's private key against an officer's wrap opens nothing either.
    with pytest.raises(export.NoKeyToCase):
        await export.export_case(
            seeded.runtime,
            ref=ref,
            private_key=seeded.staff_private[outsider],
            staff_id=await _staff_id(seeded, "officer1@example.org"),
            actor=outsider,
        )
    assert await _exports(seeded) == []


async def test_recovery_key_holder_exports_from_the_command_line(
    sqlite_seeded: Instance, tmp_path
) -> None:
    ref, markers = await _case_with_history(sqlite_seeded)
    out = tmp_path / "case.html"
    environ = {**os.environ, **quietline_environ(sqlite_seeded.settings.data_dir)}

    def run(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "intake.cli", *args],
            input=stdin, capture_output=True, text=True, env=environ, timeout=120, check=False,
        )  # fmt: skip

    recovery = keyring.format_recovery_key(sqlite_seeded.recovery_private)
    call = functools.partial(run, "export", "--ref", ref, "--out", str(out), "--recovery-key-stdin")
    done = await anyio.to_thread.run_sync(functools.partial(call, stdin=recovery + "\n"))
    assert done.returncode == 0, done.stderr
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert markers["note"] in out.read_text()
    again = await anyio.to_thread.run_sync(functools.partial(call, stdin=recovery + "\n"))
    assert again.returncode == 2 and "exists already" in again.stderr
    wrong = tmp_path / "wrong.html"
    other = keyring.format_recovery_key(sqlite_seeded.staff_private["officer1@example.org"])
    refused = await anyio.to_thread.run_sync(
        functools.partial(
            run, "export", "--ref", ref, "--out", str(wrong), "--recovery-key-stdin", stdin=other
        )
    )
    assert refused.returncode == 2 and "no key" in refused.stderr
    assert not wrong.exists()
    events = await _exports(sqlite_seeded)
    assert [(e.actor, e.case_ref) for e in events] == [("cli:recovery-key", ref)]
