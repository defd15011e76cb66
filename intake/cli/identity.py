"""``quietline identity show`` and ``identity set``: the organisation's identity from the command
line, as the administrators' page at /admin/identity sets it (audited as the command line)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from intake.accounts import organisation
from intake.cli.command import AddParser, CommandError, in_runtime, say
from intake.config import Settings
from intake.runtime import Runtime

OPTIONS = (
    ("name_en", "the organisation's name in English"),
    ("name_fr", "the organisation's name in French"),
    ("description_en", "a short description in English, shown at the foot of each page"),
    ("description_fr", "the description in French"),
    ("contact_en", "a contact line in English"),
    ("contact_fr", "the contact line in French"),
    ("web_address", "the address reporters come back to (https://...)"),
    ("onion_address", "the onion address (<56 letters and digits>.onion)"),
    ("accent", "an accent colour, #rrggbb, dark enough to read (contrast 4.5 to 1)"),
)


async def cmd_show(runtime: Runtime, args: argparse.Namespace) -> int:
    identity = await organisation.current(runtime)
    shown = identity.audited()  # every text, and the logo by digest and size
    say(json.dumps(shown, indent=2, ensure_ascii=False))
    return 0


async def cmd_set(runtime: Runtime, args: argparse.Namespace) -> int:
    changes: dict[str, object] = {
        name: getattr(args, name) for name, _ in OPTIONS if getattr(args, name) is not None
    }
    if args.logo_bytes is not None:
        changes["logo"] = args.logo_bytes
    changes["remove_logo"] = args.remove_logo
    if not changes.keys() - {"remove_logo"} and not args.remove_logo:
        raise CommandError("give at least one option to change (see 'quietline identity set -h')")
    form = organisation.form_from(await organisation.current(runtime), **changes)
    identity = await organisation.store(runtime, form, actor="cli")
    say(f"saved: {identity.name_en or identity.name_fr or '(no name)'}")
    return 0


def set_identity(settings: Settings, args: argparse.Namespace) -> int:
    """Read the logo file first (before the instance is opened), then store."""
    args.logo_bytes = None
    if args.logo:
        try:
            args.logo_bytes = Path(args.logo).read_bytes()
        except OSError as error:
            raise CommandError(f"--logo: cannot read {args.logo}: {error.strerror}") from error
    return in_runtime(cmd_set)(settings, args)


def register(add_parser: AddParser) -> None:
    parser = add_parser("identity", help="the organisation's name, addresses, colour and logo")
    commands = parser.add_subparsers(dest="identity_command", required=True)
    commands.add_parser("show", help="print the identity in force").set_defaults(
        run=in_runtime(cmd_show)
    )
    setter = commands.add_parser(
        "set", help="change some of it (options not given stay as they are)"
    )
    for name, said in OPTIONS:
        setter.add_argument(f"--{name.replace('_', '-')}", dest=name, help=said)
    setter.add_argument("--logo", metavar="FILE", help="a PNG or JPEG logo, at most 5 KB cleaned")
    setter.add_argument("--remove-logo", action="store_true", help="remove the logo")
    setter.set_defaults(run=set_identity)
