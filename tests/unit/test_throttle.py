"""The in-process limits: a minute's worth at once, then one interval at a time."""

from __future__ import annotations

from intake.throttle import LocalLimits


async def test_a_limit_allows_a_minutes_worth_then_says_how_long_to_wait() -> None:
    limits = LocalLimits()
    assert [await limits.take("x", 4) for _ in range(4)] == [0.0] * 4
    assert await limits.exhausted("x", 4)
    wait = await limits.take("x", 4)
    assert 0 < wait <= 15  # one interval of 60 / 4 seconds at most
    # A refused event is not counted: the limit does not grow past full.
    assert limits.tat["x"] == max(limits.tat.values())
    assert not await limits.exhausted("y", 4)


async def test_the_state_is_a_name_and_a_time() -> None:
    limits = LocalLimits()
    await limits.take("signin-failures", 60)
    assert list(limits.tat) == ["signin-failures"]
    assert isinstance(limits.tat["signin-failures"], float)
