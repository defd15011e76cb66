"""``quietline keys ceremony`` and ``keys install``: the office root and recovery keys.

``keys ceremony --offline`` runs on a machine that stays offline and stores nothing: it prints
the root's and each group's recovery public key, every custodian's share, and the root-signed
genesis entries that begin the recipient directory. ``keys install`` carries the public keys
and the genesis entries to the server. ``keys ceremony --install`` does both on one machine, for
a first look and for tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from intake.accounts import installation
from intake.accounts.ceremony import (
    DEFAULT_CUSTODIANS,
    DEFAULT_THRESHOLD,
    CeremonyRefused,
    CeremonyResult,
    CustodianPlan,
    format_public,
    parse_public,
    run_ceremony,
)
from intake.accounts.directory_rules import ROOT, Entry, entry_as_json, entry_from_json
from intake.cli.command import CommandError, in_runtime, say, with_runtime
from intake.config import Settings
from intake.runtime import Runtime


def _roles(values: list[str]) -> dict[str, tuple[str, ...]]:
    named: dict[str, tuple[str, ...]] = {}
    for value in values:
        group, _, listed = value.partition("=")
        roles = tuple(role.strip() for role in listed.split(","))
        if not group.strip() or not listed.strip():
            raise CommandError(f"--roles takes GROUP=role,role,...: not {value!r}")
        named[group.strip()] = roles
    return named


def ceremony_plans(
    settings: Settings, args: argparse.Namespace
) -> tuple[list[str], dict[str, CustodianPlan], CustodianPlan]:
    groups = [settings.default_group, settings.alternate_group]
    named = _roles(args.roles or [])
    unknown = set(named) - {*groups, ROOT}
    if unknown:
        raise CommandError(
            f"--roles names no group of this office: {', '.join(sorted(unknown))} "
            f"(the groups are {', '.join(groups)}, and {ROOT})"
        )

    def plan(group: str) -> CustodianPlan:
        try:
            if group in named:
                return CustodianPlan(named[group], args.threshold)
            return CustodianPlan.numbered(args.custodians, args.threshold, f"{group}-custodian")
        except ValueError as error:
            raise CommandError(f"custodians of {group}: {error}") from None

    return groups, {group: plan(group) for group in groups}, plan(ROOT)


def make_keys(settings: Settings, args: argparse.Namespace) -> CeremonyResult:
    groups, plans, root_plan = ceremony_plans(settings, args)
    try:
        return run_ceremony(
            groups,
            plans,
            root_plan,
            default_group=settings.default_group,
            alternate_group=settings.alternate_group,
        )
    except (CeremonyRefused, ValueError) as error:
        raise CommandError(str(error)) from None


def ceremony_json(result: CeremonyResult) -> dict[str, Any]:
    return {**result.as_json(), "genesis": [entry_as_json(entry) for entry in result.genesis]}


def install_command(result: CeremonyResult) -> str:
    recovery = " ".join(
        f"--recovery {group}={format_public(key.public)}" for group, key in result.recovery.items()
    )
    return (
        f"quietline keys install --root {format_public(result.root.public)} {recovery} "
        "--genesis genesis.json"
    )


def print_ceremony(result: CeremonyResult, *, installed: bool) -> None:
    keys = [("the office root key (signs the recipient directory)", ROOT, result.root)]
    keys += [
        (f"the recovery key of the group {group}", group, key)
        for group, key in result.recovery.items()
    ]
    say("Key ceremony. Each share below is shown ONCE: hand each to its custodian (written")
    say("down or printed, checked, kept offline), then clear this terminal.")
    for title, _, key in keys:
        say()
        say(f"{title}: {key.plan.threshold} of {len(key.plan.roles)} custodians open it")
        say(f"    public: {format_public(key.public)}")
        for role, share in zip(key.plan.roles, key.shares, strict=True):
            say(f"    share for {role}: {share}")
    say()
    if installed:
        say("Installed: the root is pinned in the server secrets and the directory begins with")
        say("the groups and their recovery keys.")
        return
    say("Nothing was stored. Carry to the server the public keys and these genesis entries,")
    say("saved as genesis.json (they are public, and signed by the root):")
    say()
    say(json.dumps([entry_as_json(entry) for entry in result.genesis], separators=(",", ":")))
    say()
    say("and run there:")
    say(f"    {install_command(result)}")


async def _install(runtime: Runtime, result: CeremonyResult) -> installation.Installed:
    return await installation.install(
        runtime,
        root_public=result.root.public,
        recovery={group: key.public for group, key in result.recovery.items()},
        genesis=result.genesis,
    )


def ceremony(settings: Settings, args: argparse.Namespace) -> int:
    result = make_keys(settings, args)
    if args.install:

        async def handler(runtime: Runtime, _: argparse.Namespace) -> int:
            await _install(runtime, result)
            return 0

        asyncio.run(with_runtime(settings, handler, args))
    if args.format == "json":
        say(json.dumps(ceremony_json(result)))
    else:
        print_ceremony(result, installed=args.install)
    return 0


def _public(text: str, what: str) -> bytes:
    try:
        return parse_public(text)
    except ValueError:
        raise CommandError(f"{what} is not a public key as the ceremony prints it") from None


def read_genesis(source: str) -> list[Entry]:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text()
        return [entry_from_json(item) for item in json.loads(text)]
    except OSError as error:
        raise CommandError(f"cannot read the genesis entries: {error.strerror}") from None
    except (ValueError, TypeError):
        raise CommandError("the genesis entries are not the JSON the ceremony printed") from None


async def cmd_install(runtime: Runtime, args: argparse.Namespace) -> int:
    root = _public(args.root, "--root")
    recovery: dict[str, bytes] = {}
    for value in args.recovery:
        group, _, public = value.partition("=")
        if not group or not public:
            raise CommandError(f"--recovery takes GROUP=PUBLIC: not {value!r}")
        recovery[group.strip()] = _public(public, f"the recovery key of {group}")
    done = await installation.install(
        runtime, root_public=root, recovery=recovery, genesis=read_genesis(args.genesis)
    )
    say(
        "The office root key is pinned in the server secrets."
        if done.root_pinned
        else "This office root key was pinned already."
    )
    if done.entries_added:
        say(f"The recipient directory begins with {done.entries_added} root-signed entries.")
    else:
        say("The directory already begins with these entries: nothing was added.")
    if done.recovery_rows_added:
        say("New reports are sealed to the recovery key of the group that receives them.")
    return 0


def register(keys: Any) -> None:
    """Add ``ceremony`` and ``install`` to the ``keys`` group's subcommands."""
    parser = keys.add_parser(
        "ceremony",
        help="make the office root key and each group's recovery key, split among custodians",
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--offline", action="store_true", help="print everything, store nothing")
    where.add_argument(
        "--install", action="store_true", help="also install here (a first look, tests)"
    )
    parser.add_argument("--custodians", type=int, default=DEFAULT_CUSTODIANS, metavar="N")
    parser.add_argument("--threshold", type=int, default=DEFAULT_THRESHOLD, metavar="K")
    parser.add_argument(
        "--roles",
        action="append",
        metavar="GROUP=a,b,c",
        help=f"name the custodians of a group (or of {ROOT}) by role; default: numbered",
    )
    parser.add_argument("--json", action="store_const", const="json", dest="format")
    parser.set_defaults(run=ceremony)

    install = keys.add_parser(
        "install", help="pin the root key and begin the directory with the ceremony's entries"
    )
    install.add_argument("--root", required=True, metavar="PUBLIC")
    install.add_argument(
        "--recovery", action="append", required=True, metavar="GROUP=PUBLIC", default=[]
    )
    install.add_argument(
        "--genesis",
        required=True,
        metavar="FILE",
        help="the ceremony's genesis entries (- reads standard input)",
    )
    install.set_defaults(run=in_runtime(cmd_install))
