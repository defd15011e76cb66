"""``quietline directory``: verify, show, list and approve the recipient directory.

The directory is verified against the office root key pinned outside the database
(``QUIETLINE_ROOT_PUBLIC_KEY`` or the server secrets; see ``quietline keys install``).
Approving as the root reads k of the root custodians' shares on standard input, one a line,
puts the root's private key together in this process only, signs, and forgets it.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import crypto
from intake.accounts import directory, keyring, trusted
from intake.accounts.directory_rules import DirectoryState, entry_as_json
from intake.casework import holders
from intake.cli.command import AddParser, CommandError, in_runtime, say
from intake.runtime import Runtime
from intake.storage.models import DirectoryChange


def pinned_root(runtime: Runtime) -> bytes:
    root = runtime.secrets.root_public
    if root is None:
        raise CommandError(
            "no office root key is pinned: run 'quietline keys install' with the ceremony's "
            "output, or set QUIETLINE_ROOT_PUBLIC_KEY"
        )
    return root


async def directory_status(runtime: Runtime) -> str:
    """One plain line on the directory, for the server's start: no personal data in it."""
    root = runtime.secrets.root_public
    if root is None:
        return "recipient directory: no office root key is pinned, so it is not verified"
    async with runtime.sessions() as session:
        checked = await directory.verify_all(session, root_public=root)
        disagreeing = (
            trusted.disagreements(checked.state, await keyring.list_staff(session))
            if (checked.state is not None)
            else []
        )
    if checked.problem is not None:
        return f"recipient directory: NOT INTACT: {checked.problem}"
    assert checked.state is not None
    line = f"recipient directory: intact, {checked.state.count} entries"
    if disagreeing:
        line += (
            f"; {len(disagreeing)} staff rows disagree with it and receive nothing: "
            "run 'quietline directory verify'"
        )
    return line


async def cmd_verify(runtime: Runtime, args: argparse.Namespace) -> int:
    root = pinned_root(runtime)
    async with runtime.sessions() as session:
        checked = await directory.verify_all(session, root_public=root)
        staff = await keyring.list_staff(session)
    if checked.problem is not None:
        print(f"quietline: the recipient directory fails at {checked.problem}", file=sys.stderr)
        return 1
    assert checked.state is not None
    disagreeing = trusted.disagreements(checked.state, staff)
    for found in disagreeing:
        print(
            f"quietline: the staff row of {found.email} disagrees with the directory "
            f"({found.reason}): it is ignored for routing and grants",
            file=sys.stderr,
        )
    say(f"intact, {checked.state.count} entries")
    return 1 if disagreeing else 0


def state_json(state: DirectoryState) -> dict[str, Any]:
    return {
        "entries": state.count,
        "groups": dict(state.groups),
        "recovery": {
            group: {
                "public": key.public.hex(),
                "threshold": key.threshold,
                "custodians": list(key.custodians),
            }
            for group, key in state.recovery.items()
        },
        "members": [
            {
                "staff_id": m.staff_id,
                "group": m.group,
                "role": m.role,
                "active": m.active,
                "label": m.label,
            }
            for m in state.members.values()
        ],
    }


async def cmd_show(runtime: Runtime, args: argparse.Namespace) -> int:
    root = pinned_root(runtime)
    async with runtime.sessions() as session:
        checked = await directory.verify_all(session, root_public=root)
    if checked.problem is not None:
        raise CommandError(f"the recipient directory fails at {checked.problem}")
    assert checked.state is not None
    shown = state_json(checked.state)
    if args.json:
        say(json.dumps(shown))
        return 0
    say(f"intact, {shown['entries']} entries")
    for group, name in shown["groups"].items():
        recovery = shown["recovery"].get(group)
        custody = (
            f"recovery {recovery['threshold']} of {', '.join(recovery['custodians'])}"
            if recovery
            else "no recovery key"
        )
        say(f"group {group} ({name}): {custody}")
    for m in shown["members"]:
        state = "active" if m["active"] else "retired"
        say(f"  {m['staff_id']:32} {m['group']:12} {m['role']:12} {state:8} {m['label'] or ''}")
    return 0


def change_json(change: DirectoryChange) -> dict[str, Any]:
    return {
        "id": change.id,
        **entry_as_json(directory.entry_of(change)),
        "proposed_at": change.proposed_at.isoformat(),
    }


async def cmd_pending(runtime: Runtime, args: argparse.Namespace) -> int:
    async with runtime.sessions() as session:
        changes = [change_json(c) for c in await directory.pending_changes(session)]
    if args.json:
        say(json.dumps(changes))
        return 0
    for c in changes:
        signed = ", ".join(c["signatures"]) or "nobody yet"
        say(f"{c['id']}  {c['kind']:8} by {c['proposer']}, signed by {signed}: {c['body']}")
    if not changes:
        say("no pending directory changes")
    return 0


def read_root_private(root_public: bytes) -> bytes:
    lines = [line.strip() for line in sys.stdin.read().splitlines() if line.strip()]
    if not lines:
        raise CommandError("give the root custodians' shares on standard input, one a line")
    try:
        private = crypto.combine_shares(lines)
    except crypto.ShareError as error:
        raise CommandError(f"the shares do not open the root key: {error}") from None
    if len(private) != 32 or crypto.signing_public_key_of(private) != root_public:
        raise CommandError("these shares open a key, but not this office's root key")
    return private


async def cmd_approve(runtime: Runtime, args: argparse.Namespace) -> int:
    root = pinned_root(runtime)
    if not args.root_shares_stdin:
        raise CommandError("approving from the command line signs as the root: --root-shares-stdin")
    if bool(args.id) == bool(args.all):
        raise CommandError("name one change with --id, or approve every pending one with --all")
    private = read_root_private(root)
    async with runtime.sessions() as session:
        ids = [args.id] if args.id else [c.id for c in await directory.pending_changes(session)]
    applied = 0
    for change_id in ids:
        outcome = await holders.approve_as_root(runtime, change_id, private, actor="cli")
        applied += outcome == "applied"
        say(f"{change_id}: {outcome}")
    say(f"{applied} of {len(ids)} changes applied")
    return 0


def register(add_parser: AddParser) -> None:
    group = add_parser("directory", help="the recipient directory").add_subparsers(
        dest="directory_command", required=True
    )
    group.add_parser(
        "verify", help="replay the directory against the pinned root; exit 1 naming what fails"
    ).set_defaults(run=in_runtime(cmd_verify))
    show = group.add_parser("show", help="what the verified directory says")
    show.add_argument("--json", action="store_true")
    show.set_defaults(run=in_runtime(cmd_show))
    pending = group.add_parser("pending", help="changes waiting for signatures")
    pending.add_argument("--json", action="store_true")
    pending.set_defaults(run=in_runtime(cmd_pending))
    approve = group.add_parser("approve", help="sign pending changes as the office root")
    approve.add_argument("--id", help="the change to approve")
    approve.add_argument("--all", action="store_true", help="every pending change, in order")
    approve.add_argument(
        "--root-shares-stdin",
        action="store_true",
        help="read k of the root custodians' shares on standard input, one a line",
    )
    approve.set_defaults(run=in_runtime(cmd_approve))
