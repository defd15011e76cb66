"""``quietline purge``, ``hold`` and ``export``: cases past retention, on hold, for counsel."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from sqlmodel import select

from intake.accounts import keyring
from intake.casework import export, retention
from intake.cli.command import AddParser, CommandError, in_runtime, say
from intake.runtime import Runtime
from intake.storage import db
from intake.storage.models import Case
from intake.web import export_file


async def cmd_purge(runtime: Runtime, args: argparse.Namespace) -> int:
    report = await retention.run(runtime, dry_run=args.dry_run, actor="cli")
    for line in report.lines():
        say(line)
    return 0


async def cmd_hold(runtime: Runtime, args: argparse.Namespace) -> int:
    """Set or lift a case's legal hold (audited)."""
    hold = not args.release
    async with db.transaction(runtime.sessions) as session:
        case = (
            await session.exec(select(Case).where(Case.ref == args.ref.strip().upper()))
        ).first()
        if case is None:
            raise CommandError(f"no case has the reference {args.ref}")
        changed = await retention.set_legal_hold(session, case, hold=hold, actor="cli")
    state = "on legal hold: it will not be deleted" if hold else "no longer on legal hold"
    say(f"{case.ref} is {state}" + ("" if changed else " (unchanged)"))
    return 0


async def cmd_export(runtime: Runtime, args: argparse.Namespace) -> int:
    """Export a case with the office recovery key (for counsel when no holder is left)."""
    if not args.recovery_key_stdin:
        raise CommandError("give the recovery key on standard input with --recovery-key-stdin")
    private = keyring.parse_recovery_key(sys.stdin.readline())
    out = Path(args.out)
    try:
        descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CommandError(f"{out} exists already; choose a new file name") from None
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        try:
            bundle = await export.export_case(
                runtime, ref=args.ref, private_key=private, staff_id=None, actor="cli:recovery-key"
            )
            await export_file.write(bundle, handle)
        except BaseException:
            out.unlink()  # noqa: ASYNC240 - a CLI command, nothing else runs
            raise
    case = bundle.case
    say(f"{case.ref} exported to {out} (decrypted: keep it confidential); the export is audited")
    return 0


def register(add_parser: AddParser) -> None:
    purge = add_parser(
        "purge", help="send deletion notices and delete cases past retention (crypto-shredding)"
    )
    purge.add_argument(
        "--dry-run", action="store_true", help="show what would happen, change nothing"
    )
    purge.set_defaults(run=in_runtime(cmd_purge))

    export_parser = add_parser(
        "export", help="export one case as a self-contained HTML file, with the recovery key"
    )
    export_parser.add_argument("--ref", required=True, help="the case reference")
    export_parser.add_argument("--out", required=True, help="the HTML file to write")
    export_parser.add_argument(
        "--recovery-key-stdin", action="store_true", help="read the office recovery key from stdin"
    )
    export_parser.set_defaults(run=in_runtime(cmd_export))

    hold = add_parser("hold", help="put a case on legal hold (it is never deleted)")
    hold.add_argument("--ref", required=True, help="the case reference, QL-XXXXX-XXXXX")
    hold.add_argument("--release", action="store_true", help="lift the legal hold instead")
    hold.set_defaults(run=in_runtime(cmd_hold))
