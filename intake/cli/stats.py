"""``quietline stats``: the annual statistics for council."""

from __future__ import annotations

import argparse
import json
import sys

from intake.cli.command import AddParser, in_runtime, say
from intake.operations import stats
from intake.runtime import Runtime


async def cmd_stats(runtime: Runtime, args: argparse.Namespace) -> int:
    async with runtime.sessions() as session:
        figures = await stats.annual(
            session,
            year=args.year,
            as_of=runtime.today(),
            rules=runtime.rules,
            threshold=runtime.settings.stats_min_cell,
        )
    if args.format == "csv":
        sys.stdout.write(stats.to_csv(figures))
    else:
        say(json.dumps(figures, indent=2))
    return 0


def year(text: str) -> int:
    if not text.isdigit() or not 2000 <= int(text) <= 2999:
        raise argparse.ArgumentTypeError(f"{text!r} is not a year such as 2025")
    return int(text)


def register(add_parser: AddParser) -> None:
    parser = add_parser("stats", help="annual statistics for council (small counts suppressed)")
    parser.add_argument("--year", required=True, type=year)
    parser.add_argument("--format", choices=("json", "csv"), default="json")
    parser.set_defaults(run=in_runtime(cmd_stats))
