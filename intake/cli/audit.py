"""``quietline audit``: the staff audit log: its keyed chain and signed checkpoints, and its
events listed."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from sqlmodel.ext.asyncio.session import AsyncSession

from intake import datadir
from intake.accounts import directory, trusted
from intake.accounts.directory_rules import DirectoryInvalid
from intake.cli.command import AddParser, CommandError, in_runtime, say
from intake.config import Settings
from intake.config_fields import key_as_text, key_from_text
from intake.operations import audit, audit_read, audit_verify, checkpoints, witnesses
from intake.operations.checkpoints import Checkpoint
from intake.runtime import Runtime
from intake.storage import db
from intake.web import audit_labels


def _given_checkpoints(paths: list[str]) -> list[Checkpoint]:
    """The checkpoints in each ``--checkpoints`` file (``-``: standard input)."""
    given: list[Checkpoint] = []
    for name in paths:
        if name == "-":
            found, unreadable = checkpoints.parse(sys.stdin.read(), "standard input")
        else:
            path = Path(name)
            if not path.is_file():
                raise CommandError(f"no such file: {name}")
            found, unreadable = checkpoints.read_file(path, name)
        if not found:
            raise CommandError(f"{name} holds no audit checkpoint")
        for block in unreadable:
            print(
                f"quietline: warning: checkpoint {block.number} of {block.source} could not be "
                "read (cut short or altered); it is left out",
                file=sys.stderr,
            )
        given.extend(found)
    return given


def _public_key(text: str | None) -> bytes | None:
    if text is None:
        return None
    try:
        return key_from_text(text)
    except ValueError:
        raise CommandError(
            "--public-key must be the audit key as `quietline audit public-key` prints it"
        ) from None


async def cmd_audit_verify(runtime: Runtime, args: argparse.Namespace) -> int:
    given = _given_checkpoints(args.checkpoints or [])
    public = _public_key(args.public_key)
    async with runtime.sessions() as session:
        vouched = await vouched_audit_key(session, runtime)
        result = await audit_verify.verify(session, given=given, signing_public=public or vouched)
    own = runtime.secrets.audit.signing_public if runtime.secrets.audit else None
    if vouched is None:
        print(
            "quietline: warning: checkpoints are checked with the server's own signing key, "
            "which the recipient directory does not vouch for yet: run 'quietline audit "
            "public-key --propose' and have the root's custodians approve it",
            file=sys.stderr,
        )
    elif own != vouched:
        print(
            "quietline: the server's audit signing key is not the one the recipient directory "
            "vouches for: its checkpoints are refused",
            file=sys.stderr,
        )
    for warning in result.warnings:
        print(f"quietline: warning: {warning}", file=sys.stderr)
    for problem in result.problems:
        print(f"quietline: audit checkpoint REFUSED: {problem}", file=sys.stderr)
    if result.broken_at is not None:
        print(
            f"quietline: audit log BROKEN at event {result.broken_at}: {result.reason} "
            f"(shown by {result.proof}; {result.events} events before it verified)",
            file=sys.stderr,
        )
    if not result.ok or (vouched is not None and own != vouched):
        return 1
    legacy = f"; the first {result.legacy} from before the keyed chain" if result.legacy else ""
    held = ", ".join(f"{count} in {source}" for source, count in result.sources) or "none"
    say(
        f"audit log intact: {result.events} events, every link verified{legacy}; "
        f"signed checkpoints that hold: {held}"
    )
    return 0


async def cmd_audit_checkpoint(runtime: Runtime, args: argparse.Namespace) -> int:
    made = await audit.checkpoint_now(runtime)
    sys.stdout.write(made.text())
    return 0


async def vouched_audit_key(session: AsyncSession, runtime: Runtime) -> bytes | None:
    """The checkpoint signing key the verified recipient directory vouches for, if any."""
    state = await trusted.directory_state(session, runtime)
    return state.audit_public if state is not None else None


async def cmd_audit_public_key(runtime: Runtime, args: argparse.Namespace) -> int:
    audit_secrets = runtime.secrets.audit
    if audit_secrets is None:  # pragma: no cover - every opened runtime has them
        raise CommandError("this instance has no audit signing key")
    say(key_as_text(audit_secrets.signing_public))
    if args.propose:
        await propose_audit_key(runtime, audit_secrets.signing_public)
    return 0


async def propose_audit_key(runtime: Runtime, public: bytes) -> None:
    """Propose the checkpoint signing key as a directory entry only the office root signs."""
    root = runtime.secrets.root_public
    if root is None:
        raise CommandError("no office root key is pinned: run 'quietline keys install' first")
    async with db.transaction(runtime.sessions) as session:
        if await vouched_audit_key(session, runtime) == public:
            say("the recipient directory already vouches for this key")
            return
        try:
            change = await directory.propose(
                session,
                root_public=root,
                kind="audit",
                body={"public": public.hex()},
                proposer="cli",
            )
        except DirectoryInvalid as problem:
            raise CommandError(f"the recipient directory does not verify: {problem}") from None
        await audit.record(
            session,
            actor="cli",
            action="directory change proposed",
            detail={"change": change.id, "kind": "audit"},
        )
    say(
        f"proposed as directory change {change.id}: two of the office root's custodians approve "
        f"it with 'quietline directory approve --id {change.id} --root-shares-stdin'"
    )


async def cmd_audit_mail_witnesses(runtime: Runtime, args: argparse.Namespace) -> int:
    if not runtime.settings.audit_witnesses:
        raise CommandError("QUIETLINE_AUDIT_WITNESSES names no witness")
    queued = await witnesses.mail_witnesses(runtime, once_a_day=False)
    say(f"queued the latest signed checkpoint to {queued} audit witness(es)")
    return 0


def cmd_audit_rotate_key(settings: Settings, args: argparse.Namespace) -> int:
    key_id = datadir.rotate_audit_key(settings)
    say(
        f"new audit MAC key {key_id}: events are chained with it once serve and the other "
        "commands start again; the older keys stay to verify the events they chained"
    )
    return 0


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
    verify = commands.add_parser(
        "verify",
        help="check every link and signed checkpoint, against the witness file and "
        "checkpoints given",
    )
    verify.add_argument(
        "--checkpoints",
        action="append",
        metavar="FILE",
        help="a file holding checkpoints (witness emails pasted in; `-` reads standard "
        "input); may be given more than once",
    )
    verify.add_argument(
        "--public-key",
        help="check signatures with this audit public key (as a witness kept it) instead of "
        "the server's",
    )
    verify.set_defaults(run=in_runtime(cmd_audit_verify))
    commands.add_parser("checkpoint", help="sign the log's head now and print it").set_defaults(
        run=in_runtime(cmd_audit_checkpoint)
    )
    public_key = commands.add_parser(
        "public-key", help="print the public half of the checkpoint signing key"
    )
    public_key.add_argument(
        "--propose",
        action="store_true",
        help="also propose it as a recipient directory entry, for the office root to vouch for",
    )
    public_key.set_defaults(run=in_runtime(cmd_audit_public_key))
    commands.add_parser(
        "mail-witnesses", help="queue the latest signed checkpoint to the audit witnesses now"
    ).set_defaults(run=in_runtime(cmd_audit_mail_witnesses))
    commands.add_parser(
        "rotate-key", help="start chaining with a new MAC key, keeping the old ones"
    ).set_defaults(run=cmd_audit_rotate_key)
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
