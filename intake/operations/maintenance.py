"""Work the server does on its own while it runs: the daily retention run, the watch on the
storage budget of reporters' files, and the audit log's hourly checkpoint with the witnesses'
daily email.

Several app processes may each run them: every deletion re-checks its case under
a row lock inside its own transaction, so a case is destroyed once; each process
signs its own hourly checkpoint (more checkpoints only anchor the log better), and
the witnesses' email is claimed once a day across processes.
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import datetime, timedelta

from intake.attachments import budget
from intake.casework import retention
from intake.i18n import SOURCE_LOCALE
from intake.operations import audit, witnesses
from intake.runtime import Runtime

logger = logging.getLogger("quietline.maintenance")
_random = random.SystemRandom()
FIRST_RUN_DELAY_SECONDS = 60.0
CHECKPOINT_INTERVAL_SECONDS = 3600.0


async def retention_loop(runtime: Runtime, *, first_delay: float = FIRST_RUN_DELAY_SECONDS) -> None:
    """Run retention a minute after start, then every ``QUIETLINE_PURGE_INTERVAL_HOURS``."""
    interval = runtime.settings.purge_interval_hours * 3600
    await asyncio.sleep(first_delay)
    while True:
        try:
            report = await retention.run(runtime, pause_share=retention.PAUSE_SHARE_IN_SERVER)
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
# The total budget and the disk fill slowly: they are looked at once in a while, at moments
# drawn at random, so that the time of their log line says nothing of when a file came in.
SLOW_LOOK_SECONDS = (12 * 3600.0, 36 * 3600.0)


async def budget_watch_loop(runtime: Runtime, *, interval: float = BUDGET_WATCH_SECONDS) -> None:
    """Every ten minutes, delete the storage budget's sum of any hour that has ended, and let
    :class:`BudgetWatch` tell the operator of a budget near its end."""
    watch = BudgetWatch(runtime)
    while True:
        try:
            await budget.forget_past_hours(runtime)
            await watch.look()
        except Exception as exc:  # keep serving; look again at the next interval
            logger.error("storage budget check failed: %s", type(exc).__name__)
        await asyncio.sleep(interval)


class BudgetWatch:
    """Tells the operator, one log line each, of every storage budget at 80% or more
    (intake/attachments/budget.py); the line names no case, request or address.

    The hourly budget is told at most once an hour, at the first look after it reaches 80%:
    only a flood gets there, and the operator needs to know while it lasts. The total budget
    and the disk floor are told at looks drawn at random 12 to 36 hours apart, whatever the
    uploads: a line logged a few minutes after a reporter's file tipped the total over 80%
    would date that file.
    """

    def __init__(self, runtime: Runtime, *, slow_look_at: datetime | None = None) -> None:
        self.runtime = runtime
        self.hour_told: int | None = None
        self.slow_look_at = slow_look_at or self._later(runtime.now())

    @staticmethod
    def _later(moment: datetime) -> datetime:
        return moment + timedelta(seconds=_random.uniform(*SLOW_LOOK_SECONDS))

    async def look(self) -> list[str]:
        """Log what is due now; the lines logged."""
        alarms = (await budget.usage(self.runtime)).alarms_by_kind()
        told = []
        hour = budget.current_hour(self.runtime)
        if "hour" in alarms and self.hour_told != hour:
            self.hour_told = hour
            told.append(alarms["hour"])
        now = self.runtime.now()
        if now >= self.slow_look_at:
            self.slow_look_at = self._later(now)
            told += [alarms[kind] for kind in ("total", "disk") if kind in alarms]
        lines = [alarm.localized(SOURCE_LOCALE) for alarm in told]
        for line in lines:
            logger.warning("storage budget: %s", line)
        return lines


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
