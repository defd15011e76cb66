"""``quietline stats``: the annual statistics for council."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from intake.cli.command import (
    AddParser,
    CommandError,
    add_language_option,
    in_runtime,
    say,
    use_language,
)
from intake.numbers import is_digits
from intake.operations import stats
from intake.runtime import Runtime
from intake.web import pdf


async def cmd_stats(runtime: Runtime, args: argparse.Namespace) -> int:
    if args.format == "pdf" and not args.out:
        raise CommandError("a PDF is written to a file: give it with --out FILE")
    use_language(args.lang)
    async with runtime.sessions() as session:
        figures = await stats.annual(
            session,
            year=args.year,
            as_of=runtime.today(),
            rules=runtime.rules,
            threshold=runtime.settings.stats_min_cell,
        )
    if args.format == "pdf":
        write_new_file(Path(args.out), await pdf.council_pdf(figures, runtime))
        say(f"the report for council of {args.year} is in {args.out}")
    elif args.format == "csv":
        sys.stdout.write(stats.to_csv(figures))
    else:
        say(json.dumps(figures, indent=2))
    return 0


def write_new_file(path: Path, content: bytes) -> None:
    """Write a file that did not exist (an existing one is never overwritten)."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CommandError(f"{path} exists already; choose a new file name") from None
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)


def year(text: str) -> int:
    if not is_digits(text) or not 2000 <= int(text) <= 2999:
        raise argparse.ArgumentTypeError(f"{text!r} is not a year such as 2025")
    return int(text)


def register(add_parser: AddParser) -> None:
    parser = add_parser("stats", help="annual statistics for council (small counts suppressed)")
    parser.add_argument("--year", required=True, type=year)
    parser.add_argument(
        "--format",
        choices=("json", "csv", "pdf"),
        default="json",
        help="json (default) or csv on standard output, or pdf: the report for council, "
        "written to --out",
    )
    parser.add_argument("--out", metavar="FILE", help="the PDF to write (a new file)")
    add_language_option(parser)
    parser.set_defaults(run=in_runtime(cmd_stats))
