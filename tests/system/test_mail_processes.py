"""Several app processes on one PostgreSQL database: each email leaves exactly once."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func
from sqlmodel import select

from intake import mail
from intake.config import Settings, load_settings
from intake.runtime import open_runtime
from intake.storage import db
from intake.storage.models import Outbox, Staff
from tests.support.instance import quietline_environ
from tests.support.live import LiveServer, free_port
from tests.support.mail import FAST_MAIL_ENVIRON, SmtpServer
from tests.support.postgres import run_sync

NOTICES = 200


async def queue_and_wait(settings: Settings) -> set[str]:
    """Queue one notice to each of NOTICES new staff in one transaction; wait for the
    outbox to empty (bounded); return the addresses."""
    runtime = open_runtime(settings)
    try:
        people = [
            Staff(
                email=f"staff{n:03d}@city.example",
                name=f"Staff {n}",
                role="officer",
                group_name="mail-test",
                public_key=os.urandom(32),
                credential=os.urandom(64),
            )
            for n in range(NOTICES)
        ]
        async with db.transaction(runtime.sessions) as session:
            session.add_all(people)
            await session.flush()
            assert await mail.queue_notices(session, settings, people) == NOTICES
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            async with runtime.sessions() as session:
                if (await session.exec(select(func.count()).select_from(Outbox))).one() == 0:
                    break
            await asyncio.sleep(0.05)
        return {person.email for person in people}
    finally:
        await runtime.close()


def test_two_servers_on_one_postgresql_deliver_each_notice_once(
    tmp_path: Path, pg_database: str, smtp_servers: Callable[..., SmtpServer]
) -> None:
    smtp = smtp_servers()
    data_dir = tmp_path / "shared"
    environ = {**quietline_environ(data_dir, pg_database), **FAST_MAIL_ENVIRON, **smtp.environ()}
    servers = [LiveServer(data_dir=data_dir, port=free_port(), environ=environ) for _ in range(2)]
    try:
        for server in servers:
            server.start()
        expected = run_sync(queue_and_wait(load_settings(environ)))
        smtp.wait_for(NOTICES, timeout=120)
    finally:
        for server in servers:  # a clean stop lets a batch in flight finish
            server.stop()
    received = smtp.messages()
    recipients = [message.rcpt_tos[0] for message in received]
    assert len(recipients) == NOTICES, "a notice was sent twice, or one is missing"
    assert set(recipients) == expected
    assert len({message.message["Message-ID"] for message in received}) == NOTICES
    for server in servers:
        assert b"Traceback" not in server.output()
