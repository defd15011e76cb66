"""``quietline init``, ``serve`` and ``demo``: setting an instance up and running it."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import socket
from typing import Any

from intake.accounts import instance
from intake.cli.ceremony import print_ceremony
from intake.cli.command import AddParser, CommandError, in_runtime, say, with_runtime
from intake.cli.directory import directory_status
from intake.config import Settings
from intake.runtime import Runtime


async def cmd_init(runtime: Runtime, args: argparse.Namespace) -> int:
    say(f"data directory ready: {runtime.settings.data_dir}")
    return 0


async def seed_demo(runtime: Runtime) -> None:
    made = await instance.seed_demo(runtime)
    for line in made.staff:
        say(f"created: {line}")
    say()
    print_ceremony(made.ceremony, installed=True)
    say(f"The demo signed {made.approved} staff directory entries with the root's shares itself;")
    say("in production the root's custodians approve each ('quietline directory approve').")


def require_development(settings: Settings, command: str) -> None:
    """Refuse the demo outside local development, before the instance is opened.

    The demo prints every password, TOTP secret and custodian share it makes, and makes staff
    accounts whose secrets were on a terminal: on a production host that would be a set of known
    credentials and a root key put together on one machine. ``make run`` sets ``QUIETLINE_DEV``.
    """
    if not settings.development:
        raise CommandError(
            f"{command} seeds staff with known passwords and prints them with every key share; "
            "it runs only in local development (set QUIETLINE_DEV=1, as 'make run' does)"
        )


def demo(settings: Settings, args: argparse.Namespace) -> int:
    require_development(settings, "demo")
    return in_runtime(cmd_demo)(settings, args)


async def cmd_demo(runtime: Runtime, args: argparse.Namespace) -> int:
    if not await instance.is_empty(runtime):
        raise CommandError("this data directory has staff already; demo seeds only a fresh one")
    await seed_demo(runtime)
    return 0


async def cmd_serve_prepare(runtime: Runtime, args: argparse.Namespace) -> int:
    if args.demo and await instance.is_empty(runtime):
        say("First start: seeding a demo instance (for a first look, not for production).")
        await seed_demo(runtime)
    say(await directory_status(runtime))
    return 0


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options: an anonymous service records no client address.

    No access log. Forwarded headers are ignored unless the operator names the
    proxy that sets them (``QUIETLINE_TRUSTED_PROXIES``); even then only the
    scheme matters to the app, and no address is ever logged or stored.
    """
    trusted = settings.trusted_proxies
    return {
        "access_log": False,
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": trusted or None,
        "server_header": False,
        "date_header": True,
        "log_level": "warning",
        "timeout_keep_alive": 5,
        # The whole request head (request line and headers) must fit in 16 KiB. Only h11 has
        # that limit: uvicorn would otherwise pick httptools wherever it is installed.
        "http": "h11",
        "h11_max_incomplete_event_size": 16 * 1024,
        "limit_concurrency": settings.max_connections or None,
    }


def listening_socket(host: str, port: int) -> socket.socket:
    """The server's socket, bound and listening before anything else happens, so that a busy
    port stops ``serve`` before it seeds a demo or prints a password."""
    # As uvicorn binds when given a host: IPv6 for an address with a colon, else IPv4. The
    # protocol is named: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on connections
    # whose socket says TCP, and with it on, every answer after a connection's first waited
    # for the client's delayed acknowledgement (40 ms on Linux).
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(2048)
    except (OSError, UnicodeError) as error:
        listener.close()
        reason = getattr(error, "strerror", None) or str(error)
        raise CommandError(
            f"cannot listen on {host}:{port}: {reason}. Is another server using this port? "
            "Stop it, or choose another port (--port, or PORT= with make run); "
            "nothing was set up or changed"
        ) from error
    return listener


def addresses(host: str, port: int) -> list[str]:
    """Where to open the service once it listens: the reporters' pages and the staff sign-in."""
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{port}"
    return [
        f"Quietline is serving on {base}/ (Ctrl-C stops it)",
        f"  reporters: {base}/",
        f"  staff sign-in: {base}/staff/login",
    ]


def serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from intake.web.app import create_app

    if args.demo:
        require_development(settings, "serve --demo")
        # A first look should show its notices at once in the mail folder, not after a delay.
        settings = dataclasses.replace(settings, mail_delay_max=0)
    listener = listening_socket(args.host, args.port)
    try:
        asyncio.run(with_runtime(settings, cmd_serve_prepare, args, migrate_in_child=True))
        for line in addresses(args.host, listener.getsockname()[1]):
            say(line)
        config = uvicorn.Config(create_app(settings), **server_options(settings))
        uvicorn.Server(config).run(sockets=[listener])
    finally:
        listener.close()
    return 0


def register(add_parser: AddParser) -> None:
    add_parser("init", help="create the data directory and database").set_defaults(
        run=in_runtime(cmd_init)
    )

    serve_parser = add_parser("serve", help="run the web service")
    serve_parser.add_argument(
        "--host", default="127.0.0.1", help="the address to listen on (default: 127.0.0.1)"
    )
    serve_parser.add_argument(
        "--port", type=int, default=8000, help="the port to listen on (default: 8000)"
    )
    serve_parser.add_argument(
        "--demo",
        action="store_true",
        help="seed a demo instance on first start (local development only)",
    )
    serve_parser.set_defaults(run=serve)

    add_parser(
        "demo", help="seed a fresh instance with demo staff (local development only)"
    ).set_defaults(run=demo)
