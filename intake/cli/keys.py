"""``quietline keys recovery`` and ``keys check-recovery``: one group's recovery key (the whole
ceremony is in intake/cli/ceremony.py).

A group's recovery key is replaced only through the recipient directory: ``keys recovery``
proposes the new public half as a directory change that the office root alone can sign
(``quietline directory approve --id ID --root-shares-stdin``), and refuses to replace a key that
exists unless asked to (``--replace``). ``keys recovery --offline`` makes a new key on a machine
that stays offline, splits it among the custodians and stores nothing; the private half never
exists whole anywhere else.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import crypto
from intake.accounts import custody, keyring, trusted
from intake.accounts.ceremony import (
    DEFAULT_CUSTODIANS,
    DEFAULT_THRESHOLD,
    CustodianPlan,
    SplitKey,
    format_public,
)
from intake.accounts.directory_rules import DirectoryState
from intake.cli import ceremony
from intake.cli.cases import read_recovery_shares
from intake.cli.command import AddParser, CommandError, in_runtime, say, with_runtime
from intake.config import Settings
from intake.numbers import is_digits
from intake.operations import audit
from intake.runtime import Runtime
from intake.storage import db


def custodian_plan(args: argparse.Namespace, state: DirectoryState | None = None) -> CustodianPlan:
    """The custodians from ``--custodians`` (roles, or a number of them) and ``--threshold``;
    by default those of the group's key in force, else three numbered custodians, two of whom
    open it."""
    current = state.recovery.get(args.group) if state is not None else None
    listed = (args.custodians or "").strip()
    try:
        if not listed and current is not None:
            threshold = args.threshold or current.threshold
            return CustodianPlan(current.custodians, threshold)
        threshold = args.threshold or DEFAULT_THRESHOLD
        if not listed or is_digits(listed):
            count = int(listed) if listed else DEFAULT_CUSTODIANS
            return CustodianPlan.numbered(count, threshold, f"{args.group}-custodian")
        roles = tuple(role.strip() for role in listed.split(","))
        if len(set(roles)) != len(roles):
            raise ValueError("each custodian role may be named once")
        return CustodianPlan(roles, threshold)
    except ValueError as error:
        raise CommandError(f"custodians of {args.group}: {error}") from None


def split_new_key(plan: CustodianPlan) -> SplitKey:
    """A new recovery key pair, its private half split among ``plan``'s custodians."""
    pair = crypto.generate_keypair()
    shares = crypto.split_secret(pair.private, threshold=plan.threshold, shares=len(plan.roles))
    return SplitKey(public=pair.public, shares=tuple(shares), plan=plan)


def print_shares(group: str, key: SplitKey) -> None:
    say(f"the recovery key of the group {group}: {key.plan.threshold} of {len(key.plan.roles)}")
    say("custodians open it. Each share is shown ONCE: hand each to its custodian (written down")
    say("or printed, checked, kept offline), then clear this terminal.")
    say()
    say(f"    public: {format_public(key.public)}")
    for role, share in zip(key.plan.roles, key.shares, strict=True):
        say(f"    share for {role}: {share}")
    say()


def recovery_offline(args: argparse.Namespace) -> int:
    """Make one group's new recovery key on this (offline) machine; nothing is stored."""
    plan = custodian_plan(args)
    key = split_new_key(plan)
    print_shares(args.group, key)
    say("Nothing was stored: this machine can stay offline. Carry only the PUBLIC half to the")
    say("server and propose it there (add --replace where the group has a key already):")
    say(
        f"    quietline keys recovery --group {args.group} --public {format_public(key.public)} "
        f"--custodians {','.join(plan.roles)} --threshold {plan.threshold}"
    )
    return 0


async def cmd_recovery(runtime: Runtime, args: argparse.Namespace) -> int:
    """Propose a group's new recovery key (made offline, or here when no --public is given)."""
    async with runtime.sessions() as session:
        state = await trusted.directory_state(session, runtime)
    plan = custodian_plan(args, state)
    made = None if args.public else split_new_key(plan)
    public = made.public if made is not None else keyring.parse_recovery_public(args.public)
    async with db.transaction(runtime.sessions) as session:
        change = await custody.propose_recovery(
            session,
            runtime,
            group=args.group,
            public=public,
            plan=plan,
            replace=args.replace,
            proposer="cli",
        )
        await audit.record(
            session,
            actor="cli",
            action="directory change proposed",
            detail={"change": change.id, "kind": "recovery", "group": args.group},
        )
    if made is not None:
        print_shares(args.group, made)
    say(f"Proposed directory change {change.id}: a new recovery key for the group {args.group},")
    say(f"{plan.threshold} of {', '.join(plan.roles)} to open it. It takes effect only once the")
    say("office root signs it; until then new reports stay sealed to the key in force:")
    say(f"    quietline directory approve --id {change.id} --root-shares-stdin")
    say("Keep the earlier key's shares: they still open the cases sealed to it.")
    return 0


def recovery(settings: Settings, args: argparse.Namespace) -> int:
    """``--offline`` touches no data directory; otherwise the key is proposed to the directory."""
    if args.offline:
        if args.public or args.replace:
            raise CommandError("--offline makes a key and stores nothing: no --public, --replace")
        return recovery_offline(args)
    return int(asyncio.run(with_runtime(settings, cmd_recovery, args)))


async def cmd_recovery_check(runtime: Runtime, args: argparse.Namespace) -> int:
    """Put the group's key together from shares on standard input; say whether it is the one
    the directory declares and how many of the case keys sealed to it it opens."""
    shares = read_recovery_shares(args)
    async with db.transaction(runtime.sessions) as session:
        state = await trusted.directory_state(session, runtime)
        try:
            opened = custody.open_recovery_key(state, args.group, shares)
        except custody.NotThisGroupsKey:
            await audit.record(
                session,
                actor="cli",
                action="recovery key checked",
                detail={"group": args.group, "matched": False},
            )
            print(
                f"quietline: these shares do not open a recovery key of the group {args.group}",
                file=sys.stderr,
            )
            return 1
        result = await keyring.check_recovery_key(session, opened.private)
        await audit.record(
            session,
            actor="cli",
            action="recovery key checked",
            detail={
                "group": args.group,
                "matched": True,
                "current": opened.current,
                "sealed": result.sealed,
                "opened": result.opened,
            },
        )
    which = "the recovery key in force" if opened.current else "an earlier recovery key"
    say(f"These shares open {which} of the group {args.group}.")
    say(f"It opens {result.opened} of the {result.sealed} case keys sealed to it.")
    return 0 if result.opened == result.sealed else 1


def add_custodian_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--custodians",
        metavar="ROLE,ROLE,...",
        help="the custodians' roles (or how many, numbered); default: the key in force's, or "
        f"{DEFAULT_CUSTODIANS}",
    )
    parser.add_argument(
        "--threshold",
        type=int,
        metavar="K",
        help=f"how many custodians together open it (default {DEFAULT_THRESHOLD})",
    )


def register(add_parser: AddParser) -> None:
    keys = add_parser("keys", help="office keys").add_subparsers(dest="keys_command", required=True)
    recovery_parser = keys.add_parser(
        "recovery",
        help="a group's new recovery key, split among custodians; proposed to the directory",
    )
    recovery_parser.add_argument("--group", required=True, help="the group the key is for")
    recovery_parser.add_argument(
        "--offline",
        action="store_true",
        help="only make the key and print its public half and shares (offline); stores nothing",
    )
    recovery_parser.add_argument(
        "--public", metavar="KEY", help="propose a public half made with --offline"
    )
    recovery_parser.add_argument(
        "--replace",
        action="store_true",
        help="replace the group's recovery key (earlier keys still open their cases)",
    )
    add_custodian_options(recovery_parser)
    recovery_parser.set_defaults(run=recovery)
    check = keys.add_parser(
        "check-recovery",
        help="read k recovery shares on stdin; say whether they open the group's key and "
        "how many case keys",
    )
    check.add_argument("--group", required=True, help="the group whose key the shares are of")
    check.add_argument(
        "--recovery-shares-stdin",
        action="store_true",
        help="read k of the group's recovery custodians' shares on stdin, one a line",
    )
    check.set_defaults(run=in_runtime(cmd_recovery_check))
    ceremony.register(keys)
