"""``quietline mail``: the outbox and its worker."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from email.headerregistry import Address

from intake.cli.command import AddParser, CommandError, in_runtime, say
from intake.mail.compose import build_message, new_message_id, settings_check_body
from intake.mail.digest import queue_daily_digests
from intake.mail.outbox import mail_status
from intake.mail.transport import EmlTransport, describe_failure, transport_for
from intake.mail.worker import MailWorker
from intake.runtime import Runtime
from intake.storage import db


async def cmd_mail_run(runtime: Runtime, args: argparse.Namespace) -> int:
    worker = MailWorker(runtime)
    if args.once:
        handled = await worker.run_once()
        say(f"handled {handled} due email(s)")
        return 0
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, worker.stop)
    say(
        f"mail worker delivering through {transport_for(runtime.settings).describe()} "
        "(Ctrl-C stops it)"
    )
    await worker.run()
    return 0


def checked_address(address: str) -> str:
    try:
        parsed = Address(addr_spec=address.strip())
    except (ValueError, IndexError) as exc:
        raise CommandError(f"{address!r} is not an email address") from exc
    if not parsed.domain:
        raise CommandError(f"{address!r} is not an email address")
    return parsed.addr_spec


async def cmd_mail_test(runtime: Runtime, args: argparse.Namespace) -> int:
    settings = runtime.settings
    to = checked_address(args.to)
    message = build_message(
        mail_from=settings.mail_from,
        to=to,
        body=settings_check_body(),
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
        say(
            "QUIETLINE_SMTP_HOST is not set, so mail is written to files: "
            f"{transport.path_for(message)}"
        )
    else:
        say(f"the mail server {transport.describe()} accepted the test message to {to}")
    return 0


async def cmd_mail_status(runtime: Runtime, args: argparse.Namespace) -> int:
    async with runtime.sessions() as session:
        status = await mail_status(session)
    if args.json:
        say(json.dumps(status))
        return 0
    say(
        f"waiting: {status['notice']} notice(s), {status['digest']} digest(s); "
        f"held for the daily digest: {status['held']}"
    )
    say(f"failed at least once and waiting to retry: {status['retrying']}")
    for error, count in status["errors"].items():
        say(f"  last error {error}: {count}")
    return 0


async def cmd_mail_digest(runtime: Runtime, args: argparse.Namespace) -> int:
    async with db.transaction(runtime.sessions) as session:
        queued = await queue_daily_digests(session, runtime, runtime.today())
    if queued is None:
        say("today's digests were queued already")
    else:
        say(f"queued {queued} digest(s); the mail worker sends them")
    return 0


def register(add_parser: AddParser) -> None:
    mail = add_parser("mail", help="the mail outbox").add_subparsers(
        dest="mail_command", required=True
    )
    run = mail.add_parser("run", help="deliver the outbox (serve runs this too)")
    run.add_argument("--once", action="store_true", help="one round, then exit")
    run.set_defaults(run=in_runtime(cmd_mail_run))
    test = mail.add_parser("test", help="send a test message with the mail settings")
    test.add_argument("--to", required=True, help="the address to send it to")
    test.set_defaults(run=in_runtime(cmd_mail_test))
    status = mail.add_parser("status", help="what is waiting in the outbox")
    status.add_argument("--json", action="store_true")
    status.set_defaults(run=in_runtime(cmd_mail_status))
    mail.add_parser("digest", help="queue today's deadline digests now (once a day)").set_defaults(
        run=in_runtime(cmd_mail_digest)
    )
