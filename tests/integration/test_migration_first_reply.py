"""Migration 0022 fills in each case's first_reply_on from its messages, on both engines: the
statistics and retention read that column alone, so a case whose office messages predate it
must not count as never answered."""

from __future__ import annotations

from datetime import date

import anyio.to_thread
from alembic import command

from intake.casework.vocabulary import Author, EntryKind
from intake.storage import db
from intake.storage.models import Case, Entry, new_id
from tests.support.casefactory import file_report
from tests.support.instance import Instance


async def test_the_first_office_message_day_is_filled_in(seeded: Instance) -> None:
    runtime = seeded.runtime
    _, answered = await file_report(runtime)
    _, unanswered = await file_report(runtime)
    messages = [
        (answered.id, Author.REPORTER, date(2026, 6, 1)),
        (answered.id, Author.OFFICE, date(2026, 6, 9)),
        (answered.id, Author.OFFICE, date(2026, 6, 3)),
        (unanswered.id, Author.REPORTER, date(2026, 6, 2)),
    ]
    async with db.transaction(runtime.sessions) as session:
        for seq, (case_id, author, day) in enumerate(messages, start=10):
            session.add(
                Entry(
                    id=new_id(),
                    case_id=case_id,
                    seq=seq,
                    kind=EntryKind.MESSAGE,
                    author=author,
                    on=day,
                    body=b"ciphertext",
                )
            )
        for case_id in (answered.id, unanswered.id):  # as written before the column existed
            case = await session.get(Case, case_id)
            assert case is not None
            case.first_reply_on = None
            session.add(case)

    config = db.alembic_config(seeded.settings)
    await anyio.to_thread.run_sync(command.downgrade, config, "0021")
    await anyio.to_thread.run_sync(command.upgrade, config, "head")

    async with runtime.sessions() as session:
        days = {
            case_id: (await session.get(Case, case_id, populate_existing=True)).first_reply_on  # type: ignore[union-attr]
            for case_id in (answered.id, unanswered.id)
        }
    assert days == {answered.id: date(2026, 6, 3), unanswered.id: None}
