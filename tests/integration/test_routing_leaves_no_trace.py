"""Routing leaves no trace (promise 8, docs/architecture.md; SECURITY.md, "Routing").

The attack: someone who reads the outbox (or the mail system's logs) or a copy of the database
tries to tell a report that excludes an officer, or one that involves the office, from a plain
one, or to place a reporter's action more finely than the day.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from datetime import datetime

import httpx
from sqlalchemy import delete
from sqlmodel import col, select

from intake.casework import records, reporter
from intake.mail import set_notify_mode
from intake.runtime import Runtime
from intake.storage import db
from intake.storage.models import Attachment, AuditEvent, CaseKey, Entry, Outbox, Staff, is_id
from tests.support import casefactory
from tests.support.instance import Instance, set_labels
from tests.support.staffing import sign_in

DELAY = 900
ROUNDS = 10


def with_delay(made: Instance) -> Runtime:
    settings = dataclasses.replace(made.settings, mail_delay_max=DELAY)
    return dataclasses.replace(made.runtime, settings=settings)


async def staff_id(runtime: Runtime, email: str) -> str:
    async with runtime.sessions() as session:
        return (await session.exec(select(Staff.id).where(Staff.email == email))).one()


async def prepare(made: Instance, runtime: Runtime) -> str:
    """officer2 takes the daily digest; officer3 may be excluded. Returns officer3's id."""
    async with db.transaction(runtime.sessions) as session:
        person = (
            await session.exec(select(Staff).where(Staff.email == "officer2@example.org"))
        ).one()
        await set_notify_mode(session, person, "digest")
    await set_labels(made, {"officer3@example.org": "Officer Three"})
    return await staff_id(runtime, "officer3@example.org")


async def take_outbox(runtime: Runtime) -> list[Outbox]:
    """What the outbox holds now, then empty it (as if the worker had sent it all)."""
    async with db.transaction(runtime.sessions) as session:
        rows = list((await session.exec(select(Outbox))).all())
        await session.exec(delete(Outbox))  # type: ignore[call-overload]
    return rows


@dataclasses.dataclass
class Seen:
    """What the outbox showed for one kind of report, over several reports."""

    shapes: set[tuple[tuple[str, str], ...]] = dataclasses.field(default_factory=set)
    delays: list[float] = dataclasses.field(default_factory=list)

    def add(self, rows: Sequence[Outbox], since: datetime) -> None:
        self.shapes.add(tuple(sorted((row.staff_id, row.kind) for row in rows)))
        self.delays.extend((row.due_at - since).total_seconds() for row in rows)


def ks_distance(first: list[float], second: list[float]) -> float:
    """The two-sample Kolmogorov-Smirnov statistic: the largest gap between the two CDFs."""
    points = sorted({*first, *second})
    return max(
        abs(
            sum(value <= point for value in first) / len(first)
            - sum(value <= point for value in second) / len(second)
        )
        for point in points
    )


async def test_the_outbox_cannot_tell_an_excluding_or_office_report_from_a_plain_one(
    seeded: Instance,
) -> None:
    runtime = with_delay(seeded)
    officer3 = await prepare(seeded, runtime)
    routes = {
        "plain": {},
        "excluding": {"excluded_staff_ids": (officer3,)},
        "about the office": {"involves_office": True},
    }
    reports = {name: Seen() for name in routes}
    messages = {name: Seen() for name in routes}
    for _ in range(ROUNDS):
        for name, route in routes.items():
            since = db.utcnow()
            token, _case = await casefactory.file_report(runtime, body="A concern.", **route)
            reports[name].add(await take_outbox(runtime), since)
            since = db.utcnow()
            await reporter.add_reporter_message(runtime, token, "One more thing.")
            messages[name].add(await take_outbox(runtime), since)

    for seen in (reports, messages):
        # The same people, with the same kinds (the digest choice kept), for every route.
        shapes = {name: item.shapes for name, item in seen.items()}
        assert len({frozenset(value) for value in shapes.values()}) == 1, shapes
        (shape,) = shapes["plain"]
        assert officer3 in {person for person, _ in shape}
        assert sorted(kind for _, kind in shape) == ["held", "notice", "notice", "notice"]
        # Each due time a uniform random moment in the window, alike for every route.
        for item in seen.values():
            assert all(-1 <= delay <= DELAY + 5 for delay in item.delays)
        size = len(seen["plain"].delays)
        # The critical value for a false alarm once in a million runs.
        limit = math.sqrt(-math.log(0.5e-6) / 2) * math.sqrt(2 / size)
        for name in ("excluding", "about the office"):
            assert ks_distance(seen["plain"].delays, seen[name].delays) < limit


async def test_the_exclusion_list_has_one_length_for_none_one_or_five_excluded(
    seeded: Instance,
) -> None:
    runtime = seeded.runtime
    others = [
        "officer2@example.org",
        "officer3@example.org",
        "alternate@example.org",
        "investigator@example.org",
        "admin@example.org",
    ]
    await set_labels(seeded, {email: f"Person {number}" for number, email in enumerate(others)})
    ids = [await staff_id(runtime, email) for email in others]
    officer1 = seeded.staff_private["officer1@example.org"]
    lengths = set()
    for excluded in ((), ids[:1], ids):
        _, case = await casefactory.file_report(runtime, excluded_staff_ids=tuple(excluded))
        assert case.exclusions is not None
        lengths.add(len(case.exclusions))
        data_key = await casefactory.data_key_with(runtime, case.id, officer1)
        assert data_key is not None
        assert records.decrypt_exclusions(data_key, case) == set(excluded)
    assert len(lengths) == 1, lengths


async def test_rows_a_reporter_writes_have_random_ids(seeded: Instance) -> None:
    runtime = seeded.runtime
    token, case = await casefactory.file_report(
        runtime, attachments=(("note.txt", b"a plain note"),)
    )
    await reporter.add_reporter_message(runtime, token, "One more thing.")
    async with runtime.sessions() as session:
        ids = {
            "case": [case.id],
            "casekey": (await session.exec(select(CaseKey.id))).all(),
            "entry": (await session.exec(select(Entry.id))).all(),
            "attachment": (await session.exec(select(Attachment.id))).all(),
            "outbox": (await session.exec(select(Outbox.id))).all(),
        }
    for table, values in ids.items():
        assert values, table
        assert all(is_id(value) for value in values), (table, values)


async def test_audit_details_do_not_place_a_reporter_message_among_staff_ones(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    runtime = seeded.runtime
    officer = await sign_in(seeded, client, "officer1@example.org")
    _, quiet = await casefactory.file_report(runtime, body="A concern.")
    token, talkative = await casefactory.file_report(runtime, body="Another concern.")
    await reporter.add_reporter_message(runtime, token, "One more thing.")
    await reporter.add_reporter_message(runtime, token, "And another.")
    for case in (quiet, talkative):
        for kind in ("messages", "notes"):
            sent = await officer.post(f"/api/v1/cases/{case.ref}/{kind}", {"body": "Thank you."})
            assert sent.status_code == 201, sent.text
    async with runtime.sessions() as session:
        events = (
            await session.exec(
                select(AuditEvent).where(col(AuditEvent.action).in_(["case.message", "case.note"]))
            )
        ).all()
    details = {(event.case_ref, event.action): event.detail for event in events}
    assert len(details) == 4
    for action in ("case.message", "case.note"):
        # The same detail whether two reporter messages came before or none did.
        assert details[(quiet.ref, action)] == details[(talkative.ref, action)]
        assert "seq" not in details[(quiet.ref, action)]


async def test_stored_entries_do_not_order_a_reporter_among_the_office(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    """The attack: sort a case's entry rows by their plaintext columns to learn where the
    reporter's messages fell among the office's (whose audit events carry exact times)."""
    runtime = seeded.runtime
    officer = await sign_in(seeded, client, "officer1@example.org")
    written = ["report", "reporter 1", "office 1", "reporter 2", "office 2", "reporter 3"]
    guessed_right = 0
    for _ in range(8):
        token, case = await casefactory.file_report(runtime, body="report")
        for text_ in written[1:]:
            if text_.startswith("office"):
                sent = await officer.post(f"/api/v1/cases/{case.ref}/messages", {"body": text_})
                assert sent.status_code == 201, sent.text
            else:
                await reporter.add_reporter_message(runtime, token, text_)
        async with runtime.sessions() as session:
            rows = (await session.exec(select(Entry).where(Entry.case_id == case.id))).all()
        authors = [row.author for row in sorted(rows, key=lambda row: (row.on, row.seq))]
        guessed_right += authors == [
            "reporter",
            "reporter",
            "office",
            "reporter",
            "office",
            "reporter",
        ]
        # Every place encrypts to the same length.
        assert len({len(getattr(row, "position", None) or b"") for row in rows}) == 1
        # Those who hold the key still read the conversation in order.
        status = await reporter.status_by_token(runtime, token)
        assert [message.body for message in status.messages] == written[1:]
        shown = (await officer.get(f"/api/v1/cases/{case.ref}")).json()
        assert [message["body"] for message in shown["messages"]] == written[1:]
    # One in 60 by chance (the orders of three reporter and two office messages after the
    # report); eight times in a row, never.
    assert guessed_right < 8
