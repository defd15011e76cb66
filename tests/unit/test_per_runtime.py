"""What a process keeps of a value it read, per runtime."""

from __future__ import annotations

from intake.per_runtime import PerRuntime


class Runtime:  # any object stands for a runtime: only its identity matters
    pass


def test_a_value_is_fresh_for_its_seconds_then_only_the_last_read() -> None:
    one, other = Runtime(), Runtime()
    kept: PerRuntime[str] = PerRuntime(fresh_for=60)
    assert kept.fresh(one) is None and kept.last(one) is None
    kept.remember(one, "read")  # type: ignore[arg-type]
    assert kept.fresh(one) == "read" == kept.last(one)  # type: ignore[arg-type]
    assert kept.fresh(other) is None  # type: ignore[arg-type]
    stale: PerRuntime[str] = PerRuntime(fresh_for=0)
    stale.remember(one, "read")  # type: ignore[arg-type]
    assert stale.fresh(one) is None and stale.last(one) == "read"  # type: ignore[arg-type]
    kept.forget()
    assert kept.last(one) is None  # type: ignore[arg-type]


def test_a_new_runtime_at_an_old_address_sees_nothing_of_the_old_one() -> None:
    kept: PerRuntime[str] = PerRuntime(fresh_for=60)
    gone = Runtime()
    kept.remember(gone, "old")  # type: ignore[arg-type]
    address = id(gone)
    del gone
    for _ in range(1000):  # a new object is often given the freed address
        new = Runtime()
        if id(new) == address:
            assert kept.last(new) is None  # type: ignore[arg-type]
            break
