"""Group commit: what arrives while one batch is being written is written together in the next.

Filing a report is a short write transaction whose fixed costs (taking the
write lock, reading who receives it, the commit's fsync) are larger than the
report itself. With many reporters at once, a :class:`Batcher` has one task
write everything queued so far in one transaction: each report still gets its
own answer (its result, or the error that concerns it alone), and none is
answered before the transaction holding it has committed.

Under steady load from several clients, the ones answered together come back
together, a little apart. A writer that started at the first arrival would write
it alone and the rest in the next batch, paying a transaction's fixed cost for
half as many items each time; so after a batch of several, the writer waits a
short *gather window* for as many to queue again. After a batch of one (a lone
client) it never waits.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

#: Writes a batch in one transaction; returns, per item and in order, its result or the
#: exception that concerns that item alone (the others still commit). Raising fails the batch.
WriteBatch = Callable[[Sequence[Item]], Awaitable[Sequence[Result | Exception]]]


class Batcher(Generic[Item, Result]):
    """Queues items for one writer task per event loop, which writes them in batches.

    When a batch fails as a whole (a database error), each of its items is
    written again alone, so one bad item fails only itself. An item whose
    caller has gone (its request was cancelled) before its batch starts is
    not written.
    """

    def __init__(
        self,
        write_batch: WriteBatch[Item, Result],
        *,
        max_batch: int = 64,
        gather_window: float = 0.0,
    ) -> None:
        self._write_batch = write_batch
        self._max_batch = max_batch
        self._gather_window = gather_window  # seconds
        self._queue: list[tuple[Item, asyncio.Future[Result]]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._writer: asyncio.Task[None] | None = None
        self._arrived = asyncio.Event()
        self._last_size = 0

    async def submit(self, item: Item) -> Result:
        """Queue ``item``; return its result once its batch has committed, or raise its error."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (tests): nothing queued carries over
            self._loop, self._queue, self._writer = loop, [], None
            self._arrived, self._last_size = asyncio.Event(), 0
        future: asyncio.Future[Result] = loop.create_future()
        self._queue.append((item, future))
        self._arrived.set()
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._queue:
                await self._gather()
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
                self._last_size = len(batch)
                try:
                    await self._write(batch)
                finally:
                    _fail_waiting(batch)
        finally:
            # Cancelled (the server is stopping): no caller may wait forever.
            _fail_waiting(self._queue)
            self._queue.clear()

    async def _gather(self) -> None:
        """After a batch of several, wait up to the gather window for as many to queue."""
        wanted = min(self._last_size, self._max_batch)
        if self._gather_window <= 0 or wanted <= 1:
            return
        deadline = asyncio.get_running_loop().time() + self._gather_window
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout_at(deadline):
                while len(self._queue) < wanted:
                    self._arrived.clear()
                    await self._arrived.wait()

    async def _write(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        live = [(item, future) for item, future in batch if not future.done()]
        if not live:
            return
        try:
            outcomes = await self._write_batch([item for item, _ in live])
        except Exception as error:
            if len(live) == 1:
                _settle(live[0][1], error)
                return
            for one in live:
                await self._write([one])
            return
        for (_, future), outcome in zip(live, outcomes, strict=True):
            _settle(future, outcome)


def _fail_waiting(items: Sequence[tuple[Item, asyncio.Future[Result]]]) -> None:
    for _, future in items:
        if not future.done():
            future.set_exception(RuntimeError("the report writer stopped"))


def _settle(future: asyncio.Future[Result], outcome: Result | Exception) -> None:
    if future.done():  # the caller gave up while its batch was being written
        return
    if isinstance(outcome, Exception):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
