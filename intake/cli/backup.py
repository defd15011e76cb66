"""``quietline backup`` and ``restore``. They work on files, without opening the instance;
once done, each is recorded in the audit log of the database it read or wrote."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from intake.cli.command import AddParser, CommandError, say
from intake.config import ConfigError, Settings
from intake.operations import audit, backup, backup_protection
from intake.runtime import open_runtime
from intake.storage import db


async def _append(settings: Settings, action: str, detail: dict[str, Any]) -> None:
    runtime = open_runtime(settings)  # its sessions carry the audit chain's keys
    try:
        async with db.transaction(runtime.sessions) as session:
            await audit.record(session, actor="cli", action=action, detail=detail)
    finally:
        await runtime.close()


def record(settings: Settings, action: str, detail: dict[str, Any]) -> None:
    """Append the backup or restore to the audit log (SECURITY.md, "Audit log"), with the
    server secrets' audit keys and without migrating. Call it only where those secrets exist
    (a restore without them must not make new ones); a database that cannot take the event
    (one restored at an older schema, say) is named on stderr and leaves the command's result
    as it is."""
    try:
        asyncio.run(_append(settings, action, detail))
    except (SQLAlchemyError, OSError, ConfigError, audit.AuditKeysMissing) as problem:
        print(
            f"quietline: the audit log could not record this {action}: {type(problem).__name__}",
            file=sys.stderr,
        )


def read_passphrase() -> str:
    """The passphrase: the first line of standard input (never an argument, which other users
    of the machine could read)."""
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise CommandError("--passphrase-stdin: standard input held no passphrase")
    return line


def what_a_plain_backup_holds(summary: backup.Summary) -> list[str]:
    """What anyone who reads an unencrypted archive has, said plainly."""
    lines = [
        "This backup is NOT encrypted. Anyone who can read the file has:",
        "- the database: every case's ciphertext and sealed keys, the staff accounts (password "
        "hashes, and private keys and TOTP secrets sealed under their passwords), the audit "
        "log, and what is plaintext on purpose (how many cases, of which category and stage, "
        "received on which day)",
    ]
    if summary.server_secrets == "included":
        lines.append(
            "- server-secrets.json: the token pepper (with a token it finds the case; without, "
            "it lets token guesses be tested offline), the session signing key (it signs staff "
            "session cookies) and the pinned root public key, if any"
        )
    lines.append(
        "Staff sessions are not in it. Keep it as safe as the data directory, and encrypt it "
        "(--to or --passphrase-stdin) before it leaves this machine."
    )
    return lines


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    protection = backup_protection.choose(
        to=args.to or [],
        configured=settings.backup_recipients,
        passphrase=read_passphrase() if args.passphrase_stdin else None,
        plain=args.plain,
    )
    summary = backup.create(
        settings,
        Path(args.out),
        protection=protection,
        include_secrets=not args.without_secrets,
        replace=args.force,
    )
    say(
        f"backup written to {summary.path} ({summary.engine}, schema {summary.schema_revision}), "
        f"{protection.describe()}"
    )
    if summary.protection == "plain":
        for line in what_a_plain_backup_holds(summary):
            say(line)
    record(
        settings,
        "operations.backup",
        {
            "engine": summary.engine,
            "server_secrets": summary.server_secrets,
            "protection": summary.protection,
        },
    )
    if summary.server_secrets == "included":
        say("server-secrets.json is included: keep this file as safe as the data directory")
    else:
        say(
            "server secrets are NOT in this backup: keep QUIETLINE_TOKEN_PEPPER and "
            "QUIETLINE_SECRET_KEY with it, or no reporter's token will work after a restore"
        )
    return 0


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    if args.identity and args.passphrase_stdin:
        raise CommandError("give --identity or --passphrase-stdin, not both")
    summary = backup.restore(
        settings,
        Path(getattr(args, "in")),
        identities=backup_protection.identities_from(args.identity or []),
        passphrase=read_passphrase() if args.passphrase_stdin else None,
        force=args.force,
    )
    say(f"restored {summary.engine} backup into {settings.data_dir}")
    if summary.protection == "plain":
        say("the backup was not encrypted: destroy copies of it you no longer need")
    if summary.server_secrets == "included":
        record(
            settings,
            "operations.restore",
            {"engine": summary.engine, "schema_revision": summary.schema_revision},
        )
    if summary.server_secrets != "included":
        say(
            "the backup holds no server secrets: start the instance with the original "
            "QUIETLINE_TOKEN_PEPPER and QUIETLINE_SECRET_KEY, or reporters' tokens will not work"
        )
    say("staff sessions are never restored: every staff member signs in again")
    say("next: 'quietline audit verify', then 'quietline serve' (it applies any migrations)")
    return 0


def register(add_parser: AddParser) -> None:
    backup_parser = add_parser(
        "backup", help="write a consistent, encrypted copy of a running instance"
    )
    backup_parser.add_argument("--out", required=True, help="the archive file to write")
    backup_parser.add_argument(
        "--to",
        action="append",
        metavar="RECIPIENT",
        help="encrypt to this age public key (age1...), or to each in this file; repeatable "
        "(default: QUIETLINE_BACKUP_RECIPIENTS)",
    )
    backup_parser.add_argument(
        "--passphrase-stdin",
        action="store_true",
        help="encrypt with a passphrase read from standard input (at least 12 characters)",
    )
    backup_parser.add_argument(
        "--plain",
        action="store_true",
        help="write the archive unencrypted (it says what it holds)",
    )
    backup_parser.add_argument(
        "--without-secrets",
        action="store_true",
        help="leave server-secrets.json out (then keep the token pepper with the backup yourself)",
    )
    backup_parser.add_argument(
        "--force", action="store_true", help="replace the archive file if it exists already"
    )
    backup_parser.set_defaults(run=cmd_backup)

    restore_parser = add_parser("restore", help="restore a backup into a data directory")
    restore_parser.add_argument("--in", required=True, help="the archive file to read")
    restore_parser.add_argument(
        "--data-dir", default=argparse.SUPPRESS, help="the data directory to restore into"
    )
    restore_parser.add_argument(
        "--identity",
        action="append",
        metavar="FILE",
        help="an age identity file (AGE-SECRET-KEY-1...) that opens the backup; repeatable",
    )
    restore_parser.add_argument(
        "--passphrase-stdin",
        action="store_true",
        help="the backup's passphrase, read from standard input",
    )
    restore_parser.add_argument(
        "--force",
        action="store_true",
        help="replace the database and server secrets of a non-empty one",
    )
    restore_parser.set_defaults(run=cmd_restore)
