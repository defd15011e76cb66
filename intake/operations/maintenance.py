"""Work the server does on its own while it runs: the daily retention run.

Several app processes may each run it: every deletion re-checks its case under
a row lock inside its own transaction, so a case is destroyed once.
"""

from __future__ import annotations

import asyncio
import logging

from intake.casework import retention
from intake.runtime import Runtime

logger = logging.getLogger("quietline.maintenance")
FIRST_RUN_DELAY_SECONDS = 60.0


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
