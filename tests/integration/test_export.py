"""Export: one case as a self-contained HTML file for a key holder; audited; refused to others."""

from __future__ import annotations

import base64
import functools
import gc
import hashlib
import os
import re
import subprocess
import sys
import tracemalloc
from datetime import date

import anyio.to_thread
import pytest
from sqlmodel import col, select

import crypto
from intake.accounts import keyring
from intake.casework import access, export
from intake.storage.models import AuditEvent
from intake.web import export_file
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


async def _html(bundle: export.CaseExport) -> str:
    return "".join([piece async for piece in export_file.html_pieces(bundle)])


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
    bundle = await export.export_case(
        seeded.runtime,
        ref=ref,
        private_key=seeded.staff_private[email],
        staff_id=await _staff_id(seeded, email),
        actor=email,
    )
    assert bundle.case.ref == ref
    html = await _html(bundle)
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
    with pytest.raises(access.NoKeyToCase):
        await export.export_case(
            seeded.runtime,
            ref=ref,
            private_key=seeded.staff_private[outsider],
            staff_id=await _staff_id(seeded, outsider),
            actor=outsider,
        )
    # Someone else's private key against an officer's wrap opens nothing either.
    with pytest.raises(access.NoKeyToCase):
        await export.export_case(
            seeded.runtime,
            ref=ref,
            private_key=seeded.staff_private[outsider],
            staff_id=await _staff_id(seeded, "officer1@example.org"),
            actor=outsider,
        )
    assert await _exports(seeded) == []


async def test_recovery_custodians_export_from_the_command_line(
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

    shares = "\n".join(
        crypto.split_secret(sqlite_seeded.recovery_private, threshold=2, shares=3)[:2]
    )
    recover = ("--recovery-shares-stdin", "--force", "counsel's request")
    call = functools.partial(run, "export", "--ref", ref, "--out", str(out), *recover)
    done = await anyio.to_thread.run_sync(functools.partial(call, stdin=shares))
    assert done.returncode == 0, done.stderr
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert markers["note"] in out.read_text()
    again = await anyio.to_thread.run_sync(functools.partial(call, stdin=shares))
    assert again.returncode == 2 and "exists already" in again.stderr
    wrong = tmp_path / "wrong.html"
    other = "\n".join(
        crypto.split_secret(
            sqlite_seeded.staff_private["officer1@example.org"], threshold=2, shares=2
        )
    )
    refused = await anyio.to_thread.run_sync(
        functools.partial(run, "export", "--ref", ref, "--out", str(wrong), *recover, stdin=other)
    )
    assert refused.returncode == 2 and "not a recovery key" in refused.stderr
    assert not wrong.exists()
    events = await _exports(sqlite_seeded)
    assert [(e.actor, e.case_ref) for e in events] == [("cli", ref)]


async def test_an_export_streams_with_flat_memory_whatever_the_attachments_weigh(
    seeded: Instance, tmp_path
) -> None:
    """Two 20 MB files: the old whole-in-memory export held both, their base64 and the joined
    file (over 150 MB); streamed, the export holds about one database row of a file at once."""
    files = {name: os.urandom(20_000_000 + extra) for name, extra in (("a.bin", 1), ("b.bin", 2))}
    runtime = seeded.runtime
    _, case = await file_report(runtime, attachments=tuple(files.items()))
    email = "officer1@example.org"
    staff_id = await _staff_id(seeded, email)
    out = tmp_path / "case.html"
    gc.collect()
    tracemalloc.start()
    try:
        bundle = await export.export_case(
            runtime,
            ref=case.ref,
            private_key=seeded.staff_private[email],
            staff_id=staff_id,
            actor=email,
        )
        with out.open("w", encoding="utf-8") as handle:
            await export_file.write(bundle, handle)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000, f"the export held {peak / 1e6:.1f} MB at its peak"
    html = out.read_text(encoding="utf-8")
    for name, content in files.items():
        found = re.search(
            rf'download="{name}" href="data:application/octet-stream;base64,([^"]*)"', html
        )
        assert found is not None
        assert (
            hashlib.sha256(base64.b64decode(found.group(1))).digest()
            == hashlib.sha256(content).digest()
        )
        assert f"{len(content):,} bytes, application/octet-stream (not cleaned:" in html
