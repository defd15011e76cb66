"""``quietline backup`` and ``restore``. They work on files, without opening the instance;
once done, each is recorded in the audit log of the database it read or wrote."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from intake.cli.command import AddParser, say
from intake.config import Settings
from intake.operations import audit, backup
from intake.storage import db


async def _append(settings: Settings, action: str, detail: dict[str, Any]) -> None:
    engine = db.create_engine(settings)
    try:
        async with db.transaction(db.session_factory(engine)) as session:
            await audit.record(session, actor="cli", action=action, detail=detail)
    finally:
        await engine.dispose()


def record(settings: Settings, action: str, detail: dict[str, Any]) -> None:
    """Append the backup or restore to the audit log (SECURITY.md, "Audit log"). The database
    is reached without the instance being opened (no migration, no server secrets made); a
    database that cannot take the event (one restored at an older schema, say) is named on
    stderr and leaves the command's result as it is."""
    try:
        asyncio.run(_append(settings, action, detail))
    except (SQLAlchemyError, OSError) as problem:
        print(
            f"quietline: the audit log could not record this {action}: {type(problem).__name__}",
            file=sys.stderr,
        )


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    summary = backup.create(settings, Path(args.out), include_secrets=not args.without_secrets)
    say(f"backup written to {summary.path} ({summary.engine}, schema {summary.schema_revision})")
    record(
        settings,
        "operations.backup",
        {"engine": summary.engine, "server_secrets": summary.server_secrets},
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
    summary = backup.restore(settings, Path(getattr(args, "in")), force=args.force)
    say(f"restored {summary.engine} backup into {settings.data_dir}")
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
    say("next: 'quietline audit verify', then 'quietline serve' (it applies any migrations)")
    return 0


def register(add_parser: AddParser) -> None:
    backup_parser = add_parser("backup", help="write a consistent copy of a running instance")
    backup_parser.add_argument("--out", required=True, help="the archive file to write")
    backup_parser.add_argument(
        "--without-secrets",
        action="store_true",
        help="leave server-secrets.json out (then keep the token pepper with the backup yourself)",
    )
    backup_parser.set_defaults(run=cmd_backup)

    restore_parser = add_parser("restore", help="restore a backup into a data directory")
    restore_parser.add_argument("--in", required=True, help="the archive file to read")
    restore_parser.add_argument(
        "--data-dir", default=argparse.SUPPRESS, help="the data directory to restore into"
    )
    restore_parser.add_argument(
        "--force",
        action="store_true",
        help="replace the database and server secrets of a non-empty one",
    )
    restore_parser.set_defaults(run=cmd_restore)
