"""Group commit (intake/storage/batching.py): batches, per-item answers, and a failing batch."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from intake.storage.batching import Batcher


class Ledger:
    """A stand-in for a transaction: records what each batch wrote, after a pause like I/O."""

    def __init__(self, *, refuse: set[int] = frozenset(), poison: int | None = None) -> None:
        self.batches: list[list[int]] = []
        self.refuse = refuse  # items answered with their own error
        self.poison = poison  # an item that makes its whole batch fail

    async def write(self, items: Sequence[int]) -> list[int | Exception]:
        await asyncio.sleep(0.01)
        if self.poison in items:
            raise OSError("the database went away")
        self.batches.append([item for item in items if item not in self.refuse])
        return [ValueError(f"bad {item}") if item in self.refuse else item * 10 for item in items]

    @property
    def written(self) -> list[int]:
        return sorted(item for batch in self.batches for item in batch)


async def test_items_arriving_together_share_a_batch_and_get_their_own_results() -> None:
    ledger = Ledger()
    batcher: Batcher[int, int] = Batcher(ledger.write)
    results = await asyncio.gather(*(batcher.submit(item) for item in range(20)))
    assert results == [item * 10 for item in range(20)]
    assert ledger.written == list(range(20))
    # All twenty were queued before the writer ran: one batch, one transaction.
    assert [len(batch) for batch in ledger.batches] == [20]


async def test_a_batch_holds_at_most_max_batch_items() -> None:
    ledger = Ledger()
    batcher: Batcher[int, int] = Batcher(ledger.write, max_batch=8)
    await asyncio.gather(*(batcher.submit(item) for item in range(20)))
    assert [len(batch) for batch in ledger.batches] == [8, 8, 4]


async def test_an_items_own_error_fails_only_that_item() -> None:
    ledger = Ledger(refuse={3})
    batcher: Batcher[int, int] = Batcher(ledger.write)
    results = await asyncio.gather(
        *(batcher.submit(item) for item in range(6)), return_exceptions=True
    )
    assert [str(r) if isinstance(r, Exception) else r for r in results] == [
        0,
        10,
        20,
        "bad 3",
        40,
        50,
    ]
    assert ledger.written == [0, 1, 2, 4, 5]


async def test_a_failed_batch_is_written_again_item_by_item() -> None:
    ledger = Ledger(poison=4)
    batcher: Batcher[int, int] = Batcher(ledger.write)
    results = await asyncio.gather(
        *(batcher.submit(item) for item in range(6)), return_exceptions=True
    )
    assert isinstance(results[4], OSError)
    assert [r for i, r in enumerate(results) if i != 4] == [0, 10, 20, 30, 50]
    assert ledger.written == [0, 1, 2, 3, 5]


async def test_an_item_whose_caller_left_before_its_batch_is_not_written() -> None:
    ledger = Ledger()
    batcher: Batcher[int, int] = Batcher(ledger.write)
    first = asyncio.create_task(batcher.submit(1))
    await asyncio.sleep(0)  # 1 is being written
    gone = asyncio.create_task(batcher.submit(2))
    kept = asyncio.create_task(batcher.submit(3))
    await asyncio.sleep(0)
    gone.cancel()
    assert await first == 10 and await kept == 30
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert ledger.written == [1, 3]


async def test_after_a_batch_of_several_the_writer_gathers_as_many_again() -> None:
    ledger = Ledger()
    batcher: Batcher[int, int] = Batcher(ledger.write, gather_window=5.0)
    await asyncio.gather(*(batcher.submit(item) for item in range(3)))
    # Three clients answered together come back a little apart: one batch, not 1 + 2.
    first = asyncio.create_task(batcher.submit(10))
    await asyncio.sleep(0.05)
    rest = [asyncio.create_task(batcher.submit(item)) for item in (11, 12)]
    assert await asyncio.gather(first, *rest) == [100, 110, 120]
    assert [len(batch) for batch in ledger.batches] == [3, 3]


async def test_a_lone_client_never_waits_for_the_gather_window() -> None:
    ledger = Ledger()
    batcher: Batcher[int, int] = Batcher(ledger.write, gather_window=5.0)
    loop = asyncio.get_running_loop()
    started = loop.time()
    for item in range(3):
        assert await batcher.submit(item) == item * 10
    assert loop.time() - started < 1.0
    assert [len(batch) for batch in ledger.batches] == [1, 1, 1]


async def test_the_gather_window_ends_when_fewer_come_back() -> None:
    ledger = Ledger()
    batcher: Batcher[int, int] = Batcher(ledger.write, gather_window=0.05)
    await asyncio.gather(*(batcher.submit(item) for item in range(3)))
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await batcher.submit(7) == 70
    waited = loop.time() - started
    assert 0.05 <= waited < 1.0
    assert [len(batch) for batch in ledger.batches] == [3, 1]


async def test_callers_queued_when_the_writer_is_cancelled_get_an_error() -> None:
    ledger = Ledger()
    batcher: Batcher[int, int] = Batcher(ledger.write, gather_window=5.0)
    await asyncio.gather(*(batcher.submit(item) for item in range(3)))
    waiting = asyncio.create_task(batcher.submit(9))
    await asyncio.sleep(0.01)  # the writer is gathering: 9 is queued, not being written
    writer = batcher._writer
    assert writer is not None
    writer.cancel()
    with pytest.raises(RuntimeError, match="stopped"):
        await waiting
