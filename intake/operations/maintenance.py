"""Work the server does on its own while it runs: the daily retention run, and the watch on
the storage budget of reporters' files.

Several app processes may each run it: every deletion re-checks its case under
a row lock inside its own transaction, so a case is destroyed once.
"""

from __future__ import annotations

import asyncio
import logging

from intake.attachments import budget
from intake.casework import retention
from intake.i18n import SOURCE_LOCALE
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


BUDGET_WATCH_SECONDS = 600.0


async def budget_watch_loop(runtime: Runtime, *, interval: float = BUDGET_WATCH_SECONDS) -> None:
    """Every ten minutes, delete the storage budget's sum of any hour that has ended, and tell
    the operator (one log line each) of every budget at 80% or more
    (intake/attachments/budget.py), at most once an hour for each.

    The line is written by this loop, on its own schedule, never by an upload: its time says
    nothing of when a reporter sent a file, and it names no case, request or address.
    """
    said: dict[str, int] = {}
    while True:
        try:
            await budget.forget_past_hours(runtime)
            await warn_of_budget(runtime, said)
        except Exception as exc:  # keep serving; look again at the next interval
            logger.error("storage budget check failed: %s", type(exc).__name__)
        await asyncio.sleep(interval)


async def warn_of_budget(runtime: Runtime, said: dict[str, int]) -> list[str]:
    """Log each budget alarm not logged in the hour now running; the lines logged."""
    hour = budget.current_hour(runtime)
    logged = []
    for alarm in (await budget.usage(runtime)).alarms():
        if said.get(alarm.template) == hour:
            continue
        said[alarm.template] = hour
        line = alarm.localized(SOURCE_LOCALE)
        logger.warning("storage budget: %s", line)
        logged.append(line)
    return logged
