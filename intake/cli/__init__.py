"""The ``quietline`` command. Every command takes ``--data-dir`` (or ``QUIETLINE_DATA_DIR``)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from email.headerregistry import Address
from pathlib import Path
from typing import Any

from sqlmodel import select

import crypto
from intake import mail
from intake.accounts import instance, keyring
from intake.casework import export, retention
from intake.casework.vocabulary import Role
from intake.config import ConfigError, Settings, load_settings
from intake.errors import QuietlineError
from intake.mail.compose import TEST_BODY, build_message, new_message_id
from intake.mail.digest import queue_daily_digests
from intake.mail.outbox import mail_status
from intake.mail.preferences import choose_notify_mode
from intake.mail.transport import EmlTransport, describe_failure, transport_for
from intake.mail.worker import MailWorker
from intake.operations import audit, backup, stats
from intake.runtime import Runtime, open_runtime
from intake.storage import db
from intake.storage.models import Case
from intake.web import export_file

Handler = Callable[[Runtime, argparse.Namespace], Awaitable[int]]


class CommandError(Exception):
    """A problem the operator can fix; printed without a traceback."""


def _print(line: str = "") -> None:
    print(line, flush=True)


async def _with_runtime(
    settings: Settings,
    handler: Handler,
    args: argparse.Namespace,
    *,
    migrate_in_child: bool = False,
) -> int:
    instance.prepare(settings)
    runtime = open_runtime(settings)
    try:
        machine_readable = getattr(args, "format", None) in {"json", "csv"}
        for line in await instance.initialise(runtime, migrate_in_child=migrate_in_child):
            print(f"created: {line}", file=sys.stderr if machine_readable else sys.stdout)
        return await handler(runtime, args)
    finally:
        await runtime.close()


async def cmd_init(runtime: Runtime, args: argparse.Namespace) -> int:
    _print(f"data directory ready: {runtime.settings.data_dir}")
    return 0


def recovery_offline() -> int:
    """Generate a recovery key pair on this (offline) machine; nothing is stored anywhere."""
    keypair = crypto.generate_keypair()
    _print("A new office recovery key pair. Nothing was stored: this machine can stay offline.")
    _print("Print or copy the PRIVATE half below, check the copy, put it in the safe, and clear")
    _print("this terminal. Carry only the PUBLIC half to the server:")
    _print("    quietline keys recovery --public '<public half>'")
    _print()
    _print(f"    private: {keyring.format_recovery_key(keypair.private)}")
    _print(f"    public:  {keyring.format_recovery_public(keypair.public)}")
    _print()
    return 0


async def cmd_recovery(runtime: Runtime, args: argparse.Namespace) -> int:
    if args.public:
        public = keyring.parse_recovery_public(args.public)
        async with db.transaction(runtime.sessions) as session:
            await keyring.install_recovery_public(session, public)
            await audit.record(session, actor="cli", action="recovery key installed")
        _print("The recovery public key is installed: new reports are sealed to it from now on.")
        _print("Earlier recovery keys still open the cases sealed to them: keep them too.")
        return 0
    async with db.transaction(runtime.sessions) as session:
        _, private = await keyring.create_recovery_key(session)
    _print("A new office recovery key was created. Its public half is stored; the private half")
    _print("is shown below ONCE. Print it or write it down, keep it offline in a safe, and")
    _print("clear this terminal. Without it, cases whose staff are all gone cannot be opened.")
    _print()
    _print(f"    {keyring.format_recovery_key(private)}")
    _print()
    return 0


def _read_password(args: argparse.Namespace) -> str:
    if not args.password_stdin:
        raise CommandError("give the password on standard input with --password-stdin")
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise CommandError("no password was given on standard input")
    return password


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
    _print(
        f"This is {state}. It opens {result.opened} of the {result.sealed} case keys sealed to it."
    )
    return 0 if result.opened == result.sealed else 1


async def cmd_staff_add(runtime: Runtime, args: argparse.Namespace) -> int:
    password = _read_password(args)
    async with db.transaction(runtime.sessions) as session:
        staff, unlocked = await keyring.create_staff(
            session,
            runtime.settings,
            email=args.email,
            name=args.name,
            role=args.role,
            group=args.group,
            password=password,
        )
    uri = keyring.totp_uri(staff, unlocked)
    if args.json:
        _print(
            json.dumps(
                {"email": staff.email, "totp_secret": unlocked.totp_secret, "otpauth_uri": uri}
            )
        )
    else:
        _print(f"added {staff.email} ({staff.role}, group {staff.group_name})")
        _print(f"TOTP secret (add it to an authenticator app): {unlocked.totp_secret}")
        _print(f"or scan this URI as a QR code: {uri}")
    return 0


async def cmd_staff_list(runtime: Runtime, args: argparse.Namespace) -> int:
    async with runtime.sessions() as session:
        people = await keyring.list_staff(session)
    if args.json:
        _print(
            json.dumps(
                [
                    {
                        "email": p.email,
                        "name": p.name,
                        "role": p.role,
                        "group": p.group_name,
                        "active": p.active,
                        "notify": p.notify_mode,
                    }
                    for p in people
                ]
            )
        )
        return 0
    for person in people:
        state = "active" if person.active else "disabled"
        _print(f"{person.email:32} {person.role:12} {person.group_name:12} {state:8} {person.name}")
    if not people:
        _print("no staff yet: add one with 'quietline staff add'")
    return 0


async def cmd_staff_disable(runtime: Runtime, args: argparse.Namespace) -> int:
    async with db.transaction(runtime.sessions) as session:
        person = await keyring.staff_by_email(session, args.email)
        if person is None:
            raise CommandError(f"no staff member has the email {args.email}")
        person.active = False
        session.add(person)
    _print(f"disabled {args.email}: new reports are no longer sealed to them")
    return 0


async def cmd_staff_notify(runtime: Runtime, args: argparse.Namespace) -> int:
    async with runtime.sessions() as session:
        person = await keyring.staff_by_email(session, args.email)
    if person is None:
        raise CommandError(f"no staff member has the email {args.email}")
    await choose_notify_mode(runtime, person.id, args.mode, actor="cli")
    if args.mode == "digest":
        _print(f"{person.email} now receives one daily summary email, no other notices")
    else:
        _print(
            f"{person.email} now receives a notice (after a random delay) when a case needs them"
        )
    return 0


async def cmd_mail_run(runtime: Runtime, args: argparse.Namespace) -> int:
    worker = MailWorker(runtime)
    if args.once:
        handled = await worker.run_once()
        _print(f"handled {handled} due email(s)")
        return 0
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, worker.stop)
    _print(
        f"mail worker delivering through {transport_for(runtime.settings).describe()} "
        "(Ctrl-C stops it)"
    )
    await worker.run()
    return 0


def _check_address(address: str) -> str:
    try:
        parsed = Address(addr_spec=address.strip())
    except (ValueError, IndexError) as exc:
        raise CommandError(f"{address!r} is not an email address") from exc
    if not parsed.domain:
        raise CommandError(f"{address!r} is not an email address")
    return parsed.addr_spec


async def cmd_mail_test(runtime: Runtime, args: argparse.Namespace) -> int:
    settings = runtime.settings
    to = _check_address(args.to)
    message = build_message(
        mail_from=settings.mail_from,
        to=to,
        body=TEST_BODY,
        message_id=new_message_id(settings.mail_from),
    )
    transport = transport_for(settings)
    try:
        async with transport:
            await transport.send(message)
    except Exception as exc:  # every failure is reported in one sentence, without a traceback
        raise CommandError(
            f"the test message was not sent: {describe_failure(exc, settings)}"
        ) from exc
    if isinstance(transport, EmlTransport):
        _print(
            "QUIETLINE_SMTP_HOST is not set, so mail is written to files: "
            f"{transport.path_for(message)}"
        )
    else:
        _print(f"the mail server {transport.describe()} accepted the test message to {to}")
    return 0


async def cmd_mail_status(runtime: Runtime, args: argparse.Namespace) -> int:
    async with runtime.sessions() as session:
        status = await mail_status(session)
    if args.json:
        _print(json.dumps(status))
        return 0
    _print(
        f"waiting: {status['notice']} notice(s), {status['digest']} digest(s); "
        f"held for the daily digest: {status['held']}"
    )
    _print(f"failed at least once and waiting to retry: {status['retrying']}")
    for error, count in status["errors"].items():
        _print(f"  last error {error}: {count}")
    return 0


async def cmd_mail_digest(runtime: Runtime, args: argparse.Namespace) -> int:
    async with db.transaction(runtime.sessions) as session:
        queued = await queue_daily_digests(session, runtime, runtime.today())
    if queued is None:
        _print("today's digests were queued already")
    else:
        _print(f"queued {queued} digest(s); the mail worker sends them")
    return 0


async def cmd_audit_verify(runtime: Runtime, args: argparse.Namespace) -> int:
    async with runtime.sessions() as session:
        result = await audit.verify(session)
    if result.ok:
        _print(f"audit log intact: {result.events} events, every link verified")
        return 0
    print(
        f"quietline: audit log BROKEN at event {result.broken_at}: {result.reason} "
        f"({result.events} events before it verified)",
        file=sys.stderr,
    )
    return 1


async def _seed_demo(runtime: Runtime) -> None:
    for line in await instance.seed_demo(runtime):
        _print(f"created: {line}")


async def cmd_purge(runtime: Runtime, args: argparse.Namespace) -> int:
    report = await retention.run(runtime, dry_run=args.dry_run, actor="cli")
    for line in report.lines():
        _print(line)
    return 0


async def cmd_hold(runtime: Runtime, args: argparse.Namespace) -> int:
    """Set or lift a case's legal hold (audited)."""
    hold = not args.release
    async with db.transaction(runtime.sessions) as session:
        case = (
            await session.exec(select(Case).where(Case.ref == args.ref.strip().upper()))
        ).first()
        if case is None:
            raise CommandError(f"no case has the reference {args.ref}")
        changed = await retention.set_legal_hold(session, case, hold=hold, actor="cli")
    state = "on legal hold: it will not be deleted" if hold else "no longer on legal hold"
    _print(f"{case.ref} is {state}" + ("" if changed else " (unchanged)"))
    return 0


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
        _print(json.dumps(figures, indent=2))
    return 0


async def cmd_export(runtime: Runtime, args: argparse.Namespace) -> int:
    """Export a case with the office recovery key (for counsel when no holder is left)."""
    if not args.recovery_key_stdin:
        raise CommandError("give the recovery key on standard input with --recovery-key-stdin")
    private = keyring.parse_recovery_key(sys.stdin.readline())
    out = Path(args.out)
    try:
        descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CommandError(f"{out} exists already; choose a new file name") from None
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        try:
            bundle = await export.export_case(
                runtime, ref=args.ref, private_key=private, staff_id=None, actor="cli:recovery-key"
            )
            await export_file.write(bundle, handle)
        except BaseException:
            out.unlink()  # noqa: ASYNC240 - a CLI command, nothing else runs
            raise
    case = bundle.case
    _print(f"{case.ref} exported to {out} (decrypted: keep it confidential); the export is audited")
    return 0


def _year(text: str) -> int:
    if not text.isdigit() or not 2000 <= int(text) <= 2999:
        raise argparse.ArgumentTypeError(f"{text!r} is not a year such as 2025")
    return int(text)


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    summary = backup.create(settings, Path(args.out), include_secrets=not args.without_secrets)
    _print(f"backup written to {summary.path} ({summary.engine}, schema {summary.schema_revision})")
    if summary.server_secrets == "included":
        _print("server-secrets.json is included: keep this file as safe as the data directory")
    else:
        _print(
            "server secrets are NOT in this backup: keep QUIETLINE_TOKEN_PEPPER and "
            "QUIETLINE_SECRET_KEY with it, or no reporter's token will work after a restore"
        )
    return 0


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    summary = backup.restore(settings, Path(getattr(args, "in")), force=args.force)
    _print(f"restored {summary.engine} backup into {settings.data_dir}")
    if summary.server_secrets != "included":
        _print(
            "the backup holds no server secrets: start the instance with the original "
            "QUIETLINE_TOKEN_PEPPER and QUIETLINE_SECRET_KEY, or reporters' tokens will not work"
        )
    _print("next: 'quietline audit verify', then 'quietline serve' (it applies any migrations)")
    return 0


async def cmd_demo(runtime: Runtime, args: argparse.Namespace) -> int:
    if not await instance.is_empty(runtime):
        raise CommandError("this data directory has staff already; demo seeds only a fresh one")
    await _seed_demo(runtime)
    return 0


async def cmd_serve_prepare(runtime: Runtime, args: argparse.Namespace) -> int:
    if args.demo and await instance.is_empty(runtime):
        _print("First start: seeding a demo instance (for a first look, not for production).")
        await _seed_demo(runtime)
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


def serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from intake.web.app import create_app

    asyncio.run(_with_runtime(settings, cmd_serve_prepare, args, migrate_in_child=True))
    _print(f"Quietline is serving on http://{args.host}:{args.port}/ (Ctrl-C stops it)")
    uvicorn.run(create_app(settings), host=args.host, port=args.port, **server_options(settings))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="quietline", description=__doc__)
    parser.add_argument("--data-dir", help="data directory (default: $QUIETLINE_DATA_DIR or ./var)")
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("init", help="create the data directory and database").set_defaults(
        handler=cmd_init
    )

    serve_parser = commands.add_parser("serve", help="run the web service")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    serve_parser.add_argument(
        "--demo", action="store_true", help="seed demo staff and a recovery key on first start"
    )
    serve_parser.set_defaults(handler=None)

    keys = commands.add_parser("keys", help="office keys").add_subparsers(
        dest="keys_command", required=True
    )
    recovery = keys.add_parser(
        "recovery", help="create the office recovery key; prints its private half once"
    )
    recovery.add_argument(
        "--offline",
        action="store_true",
        help="only generate and print a key pair (on an offline machine); stores nothing",
    )
    recovery.add_argument(
        "--public", metavar="KEY", help="install a public half generated with --offline"
    )
    recovery.set_defaults(handler=cmd_recovery)
    keys.add_parser(
        "check-recovery",
        help="read a recovery private key on stdin; say which cases' keys it opens",
    ).set_defaults(handler=cmd_recovery_check)

    staff = commands.add_parser("staff", help="staff accounts").add_subparsers(
        dest="staff_command", required=True
    )
    add = staff.add_parser("add", help="add a staff member")
    add.add_argument("--email", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=list(Role))
    add.add_argument("--group", default=None, help="recipient group (default: the default group)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=cmd_staff_add)
    listing = staff.add_parser("list", help="list staff members")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_staff_list)
    disable = staff.add_parser("disable", help="disable a staff member")
    disable.add_argument("--email", required=True)
    disable.set_defaults(handler=cmd_staff_disable)
    notify = staff.add_parser(
        "notify", help="choose notices after each event (delayed) or a daily digest only"
    )
    notify.add_argument("--email", required=True)
    notify.add_argument("--mode", required=True, choices=mail.NOTIFY_MODES)
    notify.set_defaults(handler=cmd_staff_notify)

    mail_parser = commands.add_parser("mail", help="the mail outbox").add_subparsers(
        dest="mail_command", required=True
    )
    run = mail_parser.add_parser("run", help="deliver the outbox (serve runs this too)")
    run.add_argument("--once", action="store_true", help="one round, then exit")
    run.set_defaults(handler=cmd_mail_run)
    test = mail_parser.add_parser("test", help="send a test message with the mail settings")
    test.add_argument("--to", required=True, help="the address to send it to")
    test.set_defaults(handler=cmd_mail_test)
    status = mail_parser.add_parser("status", help="what is waiting in the outbox")
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=cmd_mail_status)
    mail_parser.add_parser(
        "digest", help="queue today's deadline digests now (once a day)"
    ).set_defaults(handler=cmd_mail_digest)

    audit_parser = commands.add_parser("audit", help="the staff audit log").add_subparsers(
        dest="audit_command", required=True
    )
    audit_parser.add_parser("verify", help="check every link of the hash chain").set_defaults(
        handler=cmd_audit_verify
    )

    purge = commands.add_parser(
        "purge", help="send deletion notices and delete cases past retention (crypto-shredding)"
    )
    purge.add_argument(
        "--dry-run", action="store_true", help="show what would happen, change nothing"
    )
    purge.set_defaults(handler=cmd_purge)

    stats_parser = commands.add_parser(
        "stats", help="annual statistics for council (small counts suppressed)"
    )
    stats_parser.add_argument("--year", required=True, type=_year)
    stats_parser.add_argument("--format", choices=("json", "csv"), default="json")
    stats_parser.set_defaults(handler=cmd_stats)

    export_parser = commands.add_parser(
        "export", help="export one case as a self-contained HTML file, with the recovery key"
    )
    export_parser.add_argument("--ref", required=True, help="the case reference")
    export_parser.add_argument("--out", required=True, help="the HTML file to write")
    export_parser.add_argument(
        "--recovery-key-stdin", action="store_true", help="read the office recovery key from stdin"
    )
    export_parser.set_defaults(handler=cmd_export)

    hold = commands.add_parser("hold", help="put a case on legal hold (it is never deleted)")
    hold.add_argument("--ref", required=True, help="the case reference, QL-XXXXX-XXXXX")
    hold.add_argument("--release", action="store_true", help="lift the legal hold instead")
    hold.set_defaults(handler=cmd_hold)

    backup_parser = commands.add_parser(
        "backup", help="write a consistent copy of a running instance"
    )
    backup_parser.add_argument("--out", required=True, help="the archive file to write")
    backup_parser.add_argument(
        "--without-secrets",
        action="store_true",
        help="leave server-secrets.json out (then keep the token pepper with the backup yourself)",
    )
    backup_parser.set_defaults(handler=None, sync_handler=cmd_backup)

    restore_parser = commands.add_parser("restore", help="restore a backup into a data directory")
    restore_parser.add_argument("--in", required=True, help="the archive file to read")
    restore_parser.add_argument(
        "--data-dir", default=argparse.SUPPRESS, help="the data directory to restore into"
    )
    restore_parser.add_argument(
        "--force",
        action="store_true",
        help="replace the database and server secrets of a non-empty one",
    )
    restore_parser.set_defaults(handler=None, sync_handler=cmd_restore)

    commands.add_parser("demo", help="seed a fresh instance with demo staff").set_defaults(
        handler=cmd_demo
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(data_dir=args.data_dir)
        if getattr(args, "group", "") is None:
            args.group = settings.default_group
        if args.command == "serve":
            return serve(settings, args)
        if args.command == "keys" and getattr(args, "offline", False):
            return recovery_offline()
        if getattr(args, "sync_handler", None) is not None:
            return int(args.sync_handler(settings, args))
        result: Any = asyncio.run(_with_runtime(settings, args.handler, args))
        return int(result)
    except (CommandError, ConfigError, QuietlineError, backup.BackupError) as error:
        message = error.message if isinstance(error, QuietlineError) else str(error)
        print(f"quietline: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
