"""The hash-chained audit log: appends never fork, and any edit, removal or reordering shows."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from intake.operations import audit, audit_verify
from intake.storage import db
from tests.support.instance import Instance


async def _append(made: Instance, count: int, actor: str) -> None:
    for index in range(count):
        async with db.transaction(made.runtime.sessions) as session:
            await audit.record(
                session,
                actor=actor,
                action="case.view",
                case_ref=f"QL-{index}",
                detail={"n": index},
            )


async def _verify(made: Instance) -> audit_verify.Verification:
    async with made.runtime.sessions() as session:
        return await audit_verify.verify(session)


async def test_concurrent_appends_keep_one_chain_and_verify(seeded: Instance) -> None:
    before = (await _verify(seeded)).events
    await asyncio.gather(*(_append(seeded, 10, f"staff{n}@example.org") for n in range(4)))
    result = await _verify(seeded)
    assert result.ok and result.events == before + 40


async def test_a_single_edited_row_breaks_the_chain_at_that_row(seeded: Instance) -> None:
    await _append(seeded, 6, "officer1@example.org")
    async with db.transaction(seeded.runtime.sessions) as session:
        await session.exec(text("UPDATE auditevent SET actor = 'someone-else' WHERE seq = 4"))
    result = await _verify(seeded)
    assert not result.ok and result.broken_at == 4 and "changed" in result.reason


async def test_a_removed_row_is_reported_missing(seeded: Instance) -> None:
    await _append(seeded, 6, "officer1@example.org")
    async with db.transaction(seeded.runtime.sessions) as session:
        await session.exec(text("DELETE FROM auditevent WHERE seq = 3"))
    result = await _verify(seeded)
    assert result.broken_at == 3 and "missing" in result.reason


async def test_swapped_rows_are_detected(seeded: Instance) -> None:
    await _append(seeded, 5, "officer1@example.org")
    async with db.transaction(seeded.runtime.sessions) as session:
        await session.exec(text("UPDATE auditevent SET seq = 100 WHERE seq = 2"))
        await session.exec(text("UPDATE auditevent SET seq = 2 WHERE seq = 3"))
        await session.exec(text("UPDATE auditevent SET seq = 3 WHERE seq = 100"))
    result = await _verify(seeded)
    assert result.broken_at == 2


async def test_a_walk_in_small_batches_finds_the_same_and_frees_its_connection(
    seeded: Instance,
) -> None:
    """The walk asks for the next batch before it checks this one: several batches, a change
    found while the next read is on its way, and the session still answers afterwards."""
    before = (await _verify(seeded)).events
    await _append(seeded, 12, "officer1@example.org")
    async with seeded.runtime.sessions() as session:
        whole = await audit_verify.verify(session, batch=4)
    assert whole.ok and whole.events == before + 12
    async with db.transaction(seeded.runtime.sessions) as session:
        await session.exec(text(f"UPDATE auditevent SET detail = '{{}}' WHERE seq = {before + 6}"))
        await session.exec(text(f"DELETE FROM auditevent WHERE seq = {before + 9}"))
    async with seeded.runtime.sessions() as session:
        broken = await audit_verify.verify(session, batch=4)
        assert (await session.exec(text("SELECT count(*) FROM auditevent"))).one()[0] == (
            before + 11
        )
    assert broken.broken_at == before + 6 and "changed" in broken.reason
