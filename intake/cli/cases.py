"""``quietline purge``, ``hold``, ``export`` and ``cases regrant``: cases past retention, on
hold, for counsel, and given again with the recovery custodians' shares."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from sqlmodel import select

from intake.accounts import custody
from intake.casework import export, recovery, retention
from intake.cli.command import (
    AddParser,
    CommandError,
    add_language_option,
    in_runtime,
    say,
    use_language,
)
from intake.runtime import Runtime
from intake.storage import db
from intake.storage.models import Case
from intake.web import export_file, pdf


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


def read_recovery_shares(args: argparse.Namespace) -> list[str]:
    """k shares of a recovery key, one a line on standard input."""
    if not args.recovery_shares_stdin:
        raise CommandError(
            "give k of the recovery custodians' shares on standard input, one a line, with "
            "--recovery-shares-stdin"
        )
    return custody.shares_from_text(sys.stdin.read())


async def cmd_export(runtime: Runtime, args: argparse.Namespace) -> int:
    """Export a case with k shares of its group's recovery key (for counsel, or when no holder
    is left), as HTML or PDF, in the language asked for."""
    shares = read_recovery_shares(args)
    use_language(args.lang)
    out = Path(args.out)
    try:
        descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CommandError(f"{out} exists already; choose a new file name") from None
    with os.fdopen(descriptor, "wb") as handle:
        try:
            bundle = await export.export_recovered(
                runtime,
                ref=args.ref,
                shares=shares,
                force_reason=args.force,
                file_format=args.format,
            )
            if args.format == "pdf":
                handle.write(await pdf.case_pdf(bundle))
            else:
                await export_file.write_bytes(bundle, handle)
        except BaseException:
            out.unlink()  # noqa: ASYNC240 - a CLI command, nothing else runs
            raise
    case = bundle.case
    say(f"{case.ref} exported to {out} (decrypted: keep it confidential); the export is audited")
    return 0


async def cmd_regrant(runtime: Runtime, args: argparse.Namespace) -> int:
    """Give a case to a staff member with k shares of its group's recovery key."""
    shares = read_recovery_shares(args)
    person = await recovery.regrant(
        runtime, ref=args.ref, email=args.to, shares=shares, force_reason=args.force
    )
    say(f"{person.email} can now open {args.ref.strip().upper()}; the grant is audited")
    return 0


def add_recovery_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--recovery-shares-stdin",
        action="store_true",
        help="read k of the case's group's recovery custodians' shares on stdin, one a line",
    )
    parser.add_argument(
        "--force",
        metavar="REASON",
        help="recover a case an active staff member still holds, saying why (audited)",
    )


def register(add_parser: AddParser) -> None:
    purge = add_parser(
        "purge", help="send deletion notices and delete cases past retention (crypto-shredding)"
    )
    purge.add_argument(
        "--dry-run", action="store_true", help="show what would happen, change nothing"
    )
    purge.set_defaults(run=in_runtime(cmd_purge))

    export_parser = add_parser(
        "export",
        help="export one case as a self-contained HTML file or a PDF, with its group's "
        "recovery shares",
    )
    export_parser.add_argument("--ref", required=True, help="the case reference")
    export_parser.add_argument("--out", required=True, help="the file to write (a new file)")
    export_parser.add_argument(
        "--format", choices=export.FORMATS, default="html", help="html (default) or pdf"
    )
    add_language_option(export_parser)
    add_recovery_options(export_parser)
    export_parser.set_defaults(run=in_runtime(cmd_export))

    cases = add_parser("cases", help="recovering access to cases").add_subparsers(
        dest="cases_command", required=True
    )
    regrant = cases.add_parser(
        "regrant",
        help="give a case to a staff member with its group's recovery shares (after a reset, "
        "or when no holder is left)",
    )
    regrant.add_argument("--ref", required=True, help="the case reference")
    regrant.add_argument("--to", required=True, metavar="EMAIL", help="the staff member")
    add_recovery_options(regrant)
    regrant.set_defaults(run=in_runtime(cmd_regrant))

    hold = add_parser("hold", help="put a case on legal hold (it is never deleted)")
    hold.add_argument("--ref", required=True, help="the case reference, QL-XXXXX-XXXXX")
    hold.add_argument("--release", action="store_true", help="lift the legal hold instead")
    hold.set_defaults(run=in_runtime(cmd_hold))
