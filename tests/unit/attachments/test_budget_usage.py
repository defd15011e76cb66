"""What the storage budget's figures mean (intake/attachments/budget.py): the room left for
reporters' files, and when the operator is told."""

from __future__ import annotations

from intake.attachments.budget import Usage


def usage(**changes: int) -> Usage:
    figures = {
        "hour_bytes": 0,
        "hour_limit": 1_000,
        "total_bytes": 0,
        "total_limit": 10_000,
        "free_bytes": 100_000,
        "free_floor": 2_000,
    }
    return Usage(**{**figures, **changes})


def test_room_is_the_smallest_of_what_each_limit_leaves() -> None:
    assert usage().room() == 1_000
    assert usage(hour_bytes=700).room() == 300
    assert usage(total_bytes=9_900).room() == 100
    assert usage(free_bytes=2_050).room() == 50
    assert usage(hour_bytes=1_200).room() == 0  # overshoot never gives negative room
    assert usage(hour_limit=0, total_limit=0, free_floor=0).room() is None  # all off


def test_the_operator_is_told_from_eighty_percent() -> None:
    assert usage(hour_bytes=799, total_bytes=7_999).alarms() == []
    said = [alarm.localized("en") for alarm in usage(hour_bytes=800).alarms()]
    assert len(said) == 1 and "80% of this hour's storage budget" in said[0]
    said = [alarm.localized("en") for alarm in usage(total_bytes=9_000).alarms()]
    assert len(said) == 1 and "90% of the total storage budget" in said[0]
    said = [alarm.localized("en") for alarm in usage(free_bytes=2_500).alarms()]
    assert len(said) == 1 and "disk has" in said[0]
    assert usage(hour_limit=0, hour_bytes=10**9).alarms() == []  # a limit that is off
    french = usage(hour_bytes=900).alarms()[0].localized("fr_CA")
    assert "90" in french and "budget de stockage" in french
