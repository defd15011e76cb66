"""What an audit checkpoint costs: an audit event with and without its signed checkpoint.

An event about a case is followed, in its transaction, by a checkpoint: the chain's head signed
with Ed25519, stored, and appended (one ``O_APPEND`` write and an ``fsync``) to the witness
file once the transaction commits. This times both kinds of event, each in a transaction of its
own, against a benchmark instance's own database and witness file, so the difference is the
checkpoint's cost as a staff request pays it.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from intake.config import load_settings
from intake.operations import audit, checkpoints
from intake.runtime import open_runtime
from intake.storage import db

EVENTS = 200


@dataclass(frozen=True)
class CheckpointCost:
    without_ms: float  # median of an audit event alone (no case: no checkpoint)
    with_ms: float  # median of an event about a case, with its checkpoint
    checkpoints: int  # blocks the witness file gained

    @property
    def cost_ms(self) -> float:
        return self.with_ms - self.without_ms


async def _timed(runtime, case_ref: str | None, count: int) -> list[float]:  # type: ignore[no-untyped-def]
    durations = []
    for index in range(count):
        started = time.perf_counter()
        async with db.transaction(runtime.sessions) as session:
            await audit.record(
                session,
                actor="bench@example.org",
                action="bench.event",
                case_ref=case_ref,
                detail={"n": index},
            )
        durations.append(time.perf_counter() - started)
    return durations


async def checkpoint_cost(environ: dict[str, str], count: int = EVENTS) -> CheckpointCost:
    """Time ``count`` events of each kind, interleaved in blocks of ten."""
    runtime = open_runtime(load_settings(environ))
    witness = runtime.settings.audit_witness_file
    try:
        before = witness.read_text().count("BEGIN") if witness and witness.exists() else 0
        without: list[float] = []
        with_checkpoint: list[float] = []
        for _ in range(count // 10):
            without += await _timed(runtime, None, 10)
            with_checkpoint += await _timed(runtime, "QL-BENCH-00001", 10)
        await checkpoints.written()
        after = witness.read_text().count("BEGIN") if witness and witness.exists() else 0
    finally:
        await runtime.close()
    return CheckpointCost(
        without_ms=1000 * statistics.median(without),
        with_ms=1000 * statistics.median(with_checkpoint),
        checkpoints=after - before,
    )
