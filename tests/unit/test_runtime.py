"""The runtime's clock: the office's day comes from it, so a test can choose the moment."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from intake.accounts import instance
from intake.config import load_settings
from intake.runtime import SystemClock, open_runtime
from tests.support.instance import quietline_environ


class StoppedClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


def test_the_system_clock_is_aware_utc() -> None:
    assert SystemClock().now().utcoffset() is not None
    assert SystemClock().now().tzinfo is UTC


async def test_today_is_the_offices_day_by_the_runtimes_clock(tmp_path: Path) -> None:
    settings = load_settings(
        {**quietline_environ(tmp_path / "data"), "QUIETLINE_TIMEZONE": "America/Toronto"}
    )
    instance.prepare(settings)
    runtime = open_runtime(settings)
    try:
        # 03:00 UTC on the 6th is still the evening of the 5th in Toronto.
        runtime.clock = StoppedClock(datetime(2026, 12, 6, 3, 0, tzinfo=UTC))
        assert runtime.today() == date(2026, 12, 5)
        assert runtime.now() == datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
        runtime.clock = StoppedClock(datetime(2026, 12, 6, 5, 0, tzinfo=UTC))
        assert runtime.today() == date(2026, 12, 6)
    finally:
        await runtime.close()
