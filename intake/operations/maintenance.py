"""Work the server does on its own while it runs: the daily retention run, and the audit
log's hourly checkpoint with the witnesses' daily email.

Several app processes may each run them: every deletion re-checks its case under
a row lock inside its own transaction, so a case is destroyed once; each process
signs its own hourly checkpoint (more checkpoints only anchor the log better), and
the witnesses' email is claimed once a day across processes.
"""

from __future__ import annotations

import asyncio
import logging

from intake.casework import retention
from intake.operations import audit, witnesses
from intake.runtime import Runtime

logger = logging.getLogger("quietline.maintenance")
FIRST_RUN_DELAY_SECONDS = 60.0
CHECKPOINT_INTERVAL_SECONDS = 3600.0


async def retention_loop(runtime: Runtime, *, first_delay: float = FIRST_RUN_DELAY_SECONDS) -> None:
    """Run retention a minute after start, then every ``QUIETLINE_PURGE_INTERVAL_HOURS``."""
    interval = runtime.settings.purge_interval_hours * 3600
    await asyncio.sleep(first_delay)
    while True:
        try:
            report = await retention.run(runtime)
        except Exception as exc:  # keep serving; try again at the next interval
            logger.error("retention run failed: %s", type(exc).__name__)
        else:
            if report.noticed or report.purged:
                logger.warning(
                    "retention: %d case(s) announced, %d case(s) deleted",
                    len(report.noticed),
                    len(report.purged),
                )
        await asyncio.sleep(interval)


async def checkpoint_loop(
    runtime: Runtime, *, interval: float = CHECKPOINT_INTERVAL_SECONDS
) -> None:
    """Sign the audit chain's head at start and every hour (events about a case are
    checkpointed as they happen), and mail the witnesses once a day."""
    while True:
        try:
            await checkpoint_round(runtime)
        except Exception as exc:  # keep serving; try again at the next interval
            logger.error("audit checkpoint failed: %s", type(exc).__name__)
        await asyncio.sleep(interval)


async def checkpoint_round(runtime: Runtime) -> int:
    """One round of the loop: a checkpoint, then the witnesses' email if it is due today;
    how many witness emails were queued."""
    await audit.checkpoint_now(runtime)
    return await witnesses.mail_witnesses(runtime)
