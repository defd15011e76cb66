"""Which TOTP time step a code belongs to, at a moment the test chooses (no waiting)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp

from intake.accounts.sessions import TOTP_STEP_SECONDS, totp_step

SECRET = pyotp.random_base32()
MOMENT = datetime(2026, 12, 5, 9, 30, 10, tzinfo=UTC)
STEP = int(MOMENT.timestamp()) // TOTP_STEP_SECONDS


def code_for(step: int) -> str:
    return pyotp.TOTP(SECRET).at(step * TOTP_STEP_SECONDS)


def test_the_current_step_and_one_either_side_are_accepted() -> None:
    for step in (STEP - 1, STEP, STEP + 1):
        assert totp_step(SECRET, code_for(step), MOMENT) == step


def test_codes_two_steps_away_are_refused() -> None:
    assert totp_step(SECRET, code_for(STEP - 2), MOMENT) is None
    assert totp_step(SECRET, code_for(STEP + 2), MOMENT) is None


def test_a_code_turns_stale_once_its_clock_moves_two_steps_on() -> None:
    code = code_for(STEP)
    later = MOMENT + timedelta(seconds=2 * TOTP_STEP_SECONDS)
    assert totp_step(SECRET, code, MOMENT + timedelta(seconds=TOTP_STEP_SECONDS)) == STEP
    assert totp_step(SECRET, code, later) is None
