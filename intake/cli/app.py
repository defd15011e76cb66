"""The ``quietline`` command: its parser, assembled from the command groups, and ``main``."""

from __future__ import annotations

import argparse
import os
import sys

from intake.cli import (
    audit,
    backup,
    cases,
    directory,
    identity,
    instance,
    keys,
    mail,
    staff,
    stats,
)
from intake.cli.command import CommandError
from intake.config import ConfigError, load_settings
from intake.errors import QuietlineError
from intake.operations.backup import BackupError

DESCRIPTION = "The quietline command. Every command takes --data-dir (or QUIETLINE_DATA_DIR)."
# In the order ``quietline --help`` lists them.
GROUPS = (instance, identity, keys, directory, staff, mail, audit, cases, stats, backup)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="quietline", description=DESCRIPTION)
    parser.add_argument("--data-dir", help="data directory (default: $QUIETLINE_DATA_DIR or ./var)")
    commands = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.register(commands.add_parser)
    return parser


# Every file and folder the command makes is its account's alone (0600, 0700), whatever the
# shell's umask: the database, the server secrets, mail files, backups, files a child writes.
PRIVATE_UMASK = 0o077


def main(argv: list[str] | None = None) -> int:
    os.umask(PRIVATE_UMASK)
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(data_dir=args.data_dir)
        return int(args.run(settings, args))
    except (CommandError, ConfigError, QuietlineError, BackupError) as error:
        message = error.message if isinstance(error, QuietlineError) else str(error)
        print(f"quietline: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
