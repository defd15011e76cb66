"""``quietline audit``: the staff audit log (verify the chain, list the events)."""

from __future__ import annotations

import argparse
import csv
import json
import sys

from intake.cli.command import AddParser, in_runtime, say
from intake.operations import audit, audit_read
from intake.runtime import Runtime
from intake.web import audit_labels


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


async def cmd_audit_list(runtime: Runtime, args: argparse.Namespace) -> int:
    """Every event, oldest first, for the operator: references and names, never content
    (the log holds none). Nothing is hidden from the operator, who holds the database."""
    filters = audit_read.parse_filters(
        {
            "actor": args.actor or "",
            "kind": args.kind or "",
            "case": args.case or "",
            "since": args.since or "",
            "until": args.until or "",
        },
        any_kind=True,
    )
    events = audit_read.every_event(runtime, audit_read.OPERATOR, filters)
    count = 0
    if args.format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(("seq", *audit_labels.CSV_COLUMNS))
        async for event in events:
            record = audit_labels.as_record(event)
            cells = [str(record[name] or "") for name in audit_labels.CSV_COLUMNS]
            writer.writerow([str(event.seq), *map(audit_labels.csv_cell, cells)])
        return 0
    if args.format == "json":
        sys.stdout.write('{"events": [')
        async for event in events:
            record = audit_labels.as_record(event)
            sys.stdout.write(("," if count else "") + "\n " + json.dumps(record))
            count += 1
        sys.stdout.write("\n]}\n")
        return 0
    async for event in events:
        record = audit_labels.as_record(event)
        say(
            f"{record['at']}  {event.actor}  {event.kind}  {event.case_ref or '-'}  "
            f"{record['description']}"
        )
        count += 1
    if not count:
        say("no events match")
    return 0


def register(add_parser: AddParser) -> None:
    commands = add_parser("audit", help="the staff audit log").add_subparsers(
        dest="audit_command", required=True
    )
    commands.add_parser("verify", help="check every link of the hash chain").set_defaults(
        run=in_runtime(cmd_audit_verify)
    )
    listing = commands.add_parser(
        "list", help="list the events, oldest first (references and names, no content)"
    )
    listing.add_argument("--case", help="only the events of this case reference")
    listing.add_argument("--actor", help="only the events of this person (an email address)")
    listing.add_argument(
        "--kind", help="only events of this kind (as the audit page names it) or stored action"
    )
    listing.add_argument("--since", help="from this day (YYYY-MM-DD, the office's time zone)")
    listing.add_argument("--until", help="to this day, inclusive (YYYY-MM-DD)")
    listing.add_argument("--format", choices=("text", "json", "csv"), default="text")
    listing.set_defaults(run=in_runtime(cmd_audit_list))
