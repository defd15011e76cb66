"""What every command group of the ``quietline`` command shares.

A command is a function ``run(settings, args) -> exit status`` set on its parser with
``set_defaults(run=...)``; :func:`in_runtime` makes one of an async handler that needs the
instance (the data directory prepared, the database migrated, the runtime open). Each module
of this package adds one group of commands with its ``register(add_parser)``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable

from intake import i18n
from intake.accounts import instance
from intake.config import Settings
from intake.runtime import Runtime, open_runtime

Handler = Callable[[Runtime, argparse.Namespace], Awaitable[int]]
Command = Callable[[Settings, argparse.Namespace], int]
# ``add_parser`` of the object ``add_subparsers`` returns: each command group's ``register``
# adds its commands through it.
AddParser = Callable[..., argparse.ArgumentParser]


class CommandError(Exception):
    """A problem the operator can fix; printed without a traceback."""


def language(text: str) -> str:
    """An available language, named by its tag (``en``, ``fr-CA``)."""
    locale = i18n.from_tag(text)
    if locale is None:
        tags = ", ".join(i18n.to_tag(name) for name in i18n.available_locales())
        raise argparse.ArgumentTypeError(f"{text!r} is not one of the languages: {tags}")
    return locale


def add_language_option(parser: argparse.ArgumentParser) -> None:
    """``--lang``: the language of a file the command writes for people to read."""
    parser.add_argument(
        "--lang",
        type=language,
        default=i18n.SOURCE_LOCALE,
        metavar="TAG",
        help="the language of the file: en (default) or fr-CA",
    )


def use_language(locale: str) -> None:
    i18n.use_locale(locale)


def say(line: str = "") -> None:
    print(line, flush=True)


async def with_runtime(
    settings: Settings,
    handler: Handler,
    args: argparse.Namespace,
    *,
    migrate_in_child: bool = False,
) -> int:
    """Prepare and open the instance, run ``handler`` in it, close it."""
    instance.prepare(settings)
    runtime = open_runtime(settings)
    try:
        machine_readable = getattr(args, "format", None) in {"json", "csv"}
        for line in await instance.initialise(runtime, migrate_in_child=migrate_in_child):
            print(f"created: {line}", file=sys.stderr if machine_readable else sys.stdout)
        return await handler(runtime, args)
    finally:
        await runtime.close()


def in_runtime(handler: Handler) -> Command:
    """The command that runs ``handler`` in the opened instance."""

    def run(settings: Settings, args: argparse.Namespace) -> int:
        return int(asyncio.run(with_runtime(settings, handler, args)))

    return run
