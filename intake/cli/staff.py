"""``quietline staff``: staff accounts from the command line."""

from __future__ import annotations

import argparse
import json
import sys

from intake import mail
from intake.accounts import keyring
from intake.accounts.administration import Account, create_account
from intake.casework.vocabulary import Role
from intake.cli.command import AddParser, CommandError, in_runtime, say
from intake.mail.preferences import choose_notify_mode
from intake.operations import audit
from intake.runtime import Runtime
from intake.storage import db


def read_password(args: argparse.Namespace) -> str:
    if not args.password_stdin:
        raise CommandError("give the password on standard input with --password-stdin")
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise CommandError("no password was given on standard input")
    return password


async def cmd_staff_add(runtime: Runtime, args: argparse.Namespace) -> int:
    password = read_password(args)
    group = runtime.settings.default_group if args.group is None else args.group
    async with db.transaction(runtime.sessions) as session:
        made = await create_account(
            session,
            runtime.settings,
            Account(args.email, args.name, args.role, group),
            password,
            root_public=runtime.secrets.root_public,
        )
        await audit.record(
            session,
            actor="cli",
            action="admin.staff_add",
            detail={
                "email": made.staff.email,
                "role": made.staff.role,
                "group": made.staff.group_name,
                "directory_change": made.directory_change,
            },
        )
    staff = made.staff
    if args.json:
        say(
            json.dumps(
                {
                    "email": staff.email,
                    "totp_secret": made.totp_secret,
                    "otpauth_uri": made.totp_uri,
                    "directory_change": made.directory_change,
                }
            )
        )
    else:
        say(f"added {staff.email} ({staff.role}, group {staff.group_name})")
        say(f"TOTP secret (add it to an authenticator app): {made.totp_secret}")
        say(f"or scan this URI as a QR code: {made.totp_uri}")
        if made.directory_change is not None:
            say(
                f"directory entry proposed ({made.directory_change}): it takes effect once "
                "signed; see 'quietline directory pending'"
            )
    return 0


async def cmd_staff_list(runtime: Runtime, args: argparse.Namespace) -> int:
    async with runtime.sessions() as session:
        people = await keyring.list_staff(session)
    if args.json:
        say(
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
        say(f"{person.email:32} {person.role:12} {person.group_name:12} {state:8} {person.name}")
    if not people:
        say("no staff yet: add one with 'quietline staff add'")
    return 0


async def cmd_staff_disable(runtime: Runtime, args: argparse.Namespace) -> int:
    async with db.transaction(runtime.sessions) as session:
        person = await keyring.staff_by_email(session, args.email)
        if person is None:
            raise CommandError(f"no staff member has the email {args.email}")
        person.active = False
        session.add(person)
        await audit.record(
            session, actor="cli", action="admin.staff_disable", detail={"email": person.email}
        )
    say(f"disabled {args.email}: new reports are no longer sealed to them")
    return 0


async def cmd_staff_notify(runtime: Runtime, args: argparse.Namespace) -> int:
    async with runtime.sessions() as session:
        person = await keyring.staff_by_email(session, args.email)
    if person is None:
        raise CommandError(f"no staff member has the email {args.email}")
    await choose_notify_mode(runtime, person.id, args.mode, actor="cli")
    if args.mode == "digest":
        say(f"{person.email} now receives one daily summary email, no other notices")
    else:
        say(f"{person.email} now receives a notice (after a random delay) when a case needs them")
    return 0


def register(add_parser: AddParser) -> None:
    staff = add_parser("staff", help="staff accounts").add_subparsers(
        dest="staff_command", required=True
    )
    add = staff.add_parser("add", help="add a staff member")
    add.add_argument("--email", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=list(Role))
    add.add_argument("--group", default=None, help="recipient group (default: the default group)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.add_argument("--json", action="store_true")
    add.set_defaults(run=in_runtime(cmd_staff_add))
    listing = staff.add_parser("list", help="list staff members")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=in_runtime(cmd_staff_list))
    disable = staff.add_parser("disable", help="disable a staff member")
    disable.add_argument("--email", required=True)
    disable.set_defaults(run=in_runtime(cmd_staff_disable))
    notify = staff.add_parser(
        "notify", help="choose notices after each event (delayed) or a daily digest only"
    )
    notify.add_argument("--email", required=True)
    notify.add_argument("--mode", required=True, choices=mail.NOTIFY_MODES)
    notify.set_defaults(run=in_runtime(cmd_staff_notify))
