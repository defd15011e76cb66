"""Numbers written with digits other than 0-9 ("²", "❶", "٣"): a clear refusal, never a 500.

Python's ``str.isdigit`` says yes to superscripts, circled and other scripts' digits, which
``int`` then refuses (or reads: "٣" is 3), and ``hmac.compare_digest`` refuses to compare
non-ASCII text at all. Every number a person types is read as ASCII digits only
(``intake.numbers``).
"""

from __future__ import annotations

import argparse
import base64
import re

import httpx
import pytest

from intake import config_fields
from intake.cli import stats as stats_command
from tests.support.instance import Instance
from tests.support.staffing import login, sign_in, sign_in_on_the_page

OFFICER = "officer1@example.org"
ADMIN = "admin@example.org"
OTHER_DIGITS = ["²", "❶", "٣"]


@pytest.mark.parametrize("digit", OTHER_DIGITS)
async def test_a_sign_in_code_of_other_digits_is_a_wrong_code(
    client: httpx.AsyncClient, seeded: Instance, digit: str
) -> None:
    answer = await login(seeded, client, OFFICER, totp=digit * 6)
    assert answer.status_code == 401, answer.text
    assert "error" in answer.json()


@pytest.mark.parametrize("digit", OTHER_DIGITS)
async def test_queue_limits_years_and_cursors_of_other_digits_are_refused(
    client: httpx.AsyncClient, seeded: Instance, digit: str
) -> None:
    officer = await sign_in(seeded, client, OFFICER)
    limit = await officer.get("/api/v1/cases", {"limit": digit})
    assert limit.status_code == 422 and "whole number" in limit.json()["error"]
    cursor = base64.urlsafe_b64encode(f"@{digit * 3}".encode()).decode().rstrip("=")
    after = await officer.get("/api/v1/cases", {"after": cursor})
    assert after.status_code == 422 and "cursor" in after.json()["error"]
    year = await officer.get("/staff/stats", {"year": f"20{digit}5"})
    assert year.status_code == 422 and "Choose a year" in year.text


async def test_a_deadline_of_other_digits_is_refused_and_nothing_changes(
    sqlite_client: httpx.AsyncClient, sqlite_seeded: Instance
) -> None:
    client = sqlite_client
    await sign_in_on_the_page(sqlite_seeded, client, ADMIN)
    found = re.search(r'name="csrf" value="([^"]+)"', (await client.get("/admin/deadlines")).text)
    assert found is not None
    before = (await client.get("/admin/deadlines")).text
    refused = await client.post(
        "/admin/deadlines",
        data={
            "csrf": found.group(1),
            "ack_days": "1²",
            "reprisal_ack_days": "1",
            "feedback_months": "3",
            "clock": "calendar",
            "holidays": "",
        },
    )
    assert refused.status_code == 422 and "Days to acknowledge" in refused.text
    after = (await client.get("/admin/deadlines")).text
    assert re.findall(r'value="(\d+)"', after) == re.findall(r'value="(\d+)"', before)


@pytest.mark.parametrize("digit", OTHER_DIGITS)
def test_settings_and_command_options_of_other_digits_say_what_is_wrong(digit: str) -> None:
    with pytest.raises(config_fields.ConfigError, match="QUIETLINE_RETENTION"):
        config_fields.parse_retention("QUIETLINE_RETENTION", f"closed={digit}")
    with pytest.raises(config_fields.ConfigError, match="QUIETLINE_PORT"):
        config_fields.parse_int("QUIETLINE_PORT", digit * 4)
    with pytest.raises(argparse.ArgumentTypeError):
        stats_command.year(f"20{digit}5")
