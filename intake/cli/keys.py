"""``quietline keys``: the office recovery key (the ceremony is in intake/cli/ceremony.py)."""

from __future__ import annotations

import argparse
import sys

import crypto
from intake.accounts import keyring
from intake.cli import ceremony
from intake.cli.command import AddParser, CommandError, in_runtime, say
from intake.config import Settings
from intake.operations import audit
from intake.runtime import Runtime
from intake.storage import db


def recovery_offline() -> int:
    """Generate a recovery key pair on this (offline) machine; nothing is stored anywhere."""
    keypair = crypto.generate_keypair()
    say("A new office recovery key pair. Nothing was stored: this machine can stay offline.")
    say("Print or copy the PRIVATE half below, check the copy, put it in the safe, and clear")
    say("this terminal. Carry only the PUBLIC half to the server:")
    say("    quietline keys recovery --public '<public half>'")
    say()
    say(f"    private: {keyring.format_recovery_key(keypair.private)}")
    say(f"    public:  {keyring.format_recovery_public(keypair.public)}")
    say()
    return 0


async def _refuse_silent_replacement(runtime: Runtime, args: argparse.Namespace) -> None:
    """A second ``keys recovery`` would leave the key in the safe opening no new case: only on
    purpose."""
    if args.replace:
        return
    async with runtime.sessions() as session:
        if await keyring.active_recovery_key(session) is not None:
            raise CommandError(
                "an office recovery key is installed already; a new one would stop new reports "
                "from being sealed to the key in the safe. Run again with --replace to do that."
            )


async def cmd_recovery(runtime: Runtime, args: argparse.Namespace) -> int:
    await _refuse_silent_replacement(runtime, args)
    if args.public:
        public = keyring.parse_recovery_public(args.public)
        async with db.transaction(runtime.sessions) as session:
            await keyring.install_recovery_public(session, public)
            await audit.record(session, actor="cli", action="recovery key installed")
        say("The recovery public key is installed: new reports are sealed to it from now on.")
        say("Earlier recovery keys still open the cases sealed to them: keep them too.")
        return 0
    async with db.transaction(runtime.sessions) as session:
        _, private = await keyring.create_recovery_key(session)
    say("A new office recovery key was created. Its public half is stored; the private half")
    say("is shown below ONCE. Print it or write it down, keep it offline in a safe, and")
    say("clear this terminal. Without it, cases whose staff are all gone cannot be opened.")
    say()
    say(f"    {keyring.format_recovery_key(private)}")
    say()
    return 0


def recovery(settings: Settings, args: argparse.Namespace) -> int:
    """``--offline`` touches no data directory; otherwise the key goes into the instance."""
    if args.offline:
        return recovery_offline()
    return in_runtime(cmd_recovery)(settings, args)


async def cmd_recovery_check(runtime: Runtime, args: argparse.Namespace) -> int:
    """Read the private half from standard input and show that it opens what it should."""
    private = keyring.parse_recovery_key(sys.stdin.readline())
    async with db.transaction(runtime.sessions) as session:
        result = await keyring.check_recovery_key(session, private)
        await audit.record(
            session,
            actor="cli",
            action="recovery key checked",
            detail={"matched": result.key_id is not None, "opened": result.opened},
        )
    if result.key_id is None:
        print("quietline: this is not a recovery key of this instance", file=sys.stderr)
        return 1
    state = "the active recovery key" if result.active else "an earlier recovery key"
    say(f"This is {state}. It opens {result.opened} of the {result.sealed} case keys sealed to it.")
    return 0 if result.opened == result.sealed else 1


def register(add_parser: AddParser) -> None:
    keys = add_parser("keys", help="office keys").add_subparsers(dest="keys_command", required=True)
    recovery_parser = keys.add_parser(
        "recovery", help="create the office recovery key; prints its private half once"
    )
    recovery_parser.add_argument(
        "--offline",
        action="store_true",
        help="only generate and print a key pair (on an offline machine); stores nothing",
    )
    recovery_parser.add_argument(
        "--public", metavar="KEY", help="install a public half generated with --offline"
    )
    recovery_parser.add_argument(
        "--replace",
        action="store_true",
        help="replace the installed recovery key (earlier keys still open their cases)",
    )
    recovery_parser.set_defaults(run=recovery)
    keys.add_parser(
        "check-recovery",
        help="read a recovery private key on stdin; say which cases' keys it opens",
    ).set_defaults(run=in_runtime(cmd_recovery_check))
    ceremony.register(keys)
