"""``quietline audit``: the staff audit log."""

from __future__ import annotations

import argparse
import sys

from intake.cli.command import AddParser, in_runtime, say
from intake.operations import audit
from intake.runtime import Runtime


async def cmd_audit_verify(runtime: Runtime, args: argparse.Namespace) -> int:
    async with runtime.sessions() as session:
        result = await audit.verify(session)
    if result.ok:
        say(f"audit log intact: {result.events} events, every link verified")
        return 0
    print(
        f"quietline: audit log BROKEN at event {result.broken_at}: {result.reason} "
        f"({result.events} events before it verified)",
        file=sys.stderr,
    )
    return 1


def register(add_parser: AddParser) -> None:
    commands = add_parser("audit", help="the staff audit log").add_subparsers(
        dest="audit_command", required=True
    )
    commands.add_parser("verify", help="check every link of the hash chain").set_defaults(
        run=in_runtime(cmd_audit_verify)
    )
