"""Settings (intake/config.py): one field per setting, read by type; secrets never print."""

from __future__ import annotations

import dataclasses
import logging
import pickle
from pathlib import Path

import pytest

from intake.config import ConfigError, Settings, load_settings
from intake.config_fields import variable
from intake.devtools import config_doc
from intake.secret import Secret

SECRETS = {
    "QUIETLINE_SECRET_KEY": "session-signing-key-that-must-not-print",
    "QUIETLINE_TOKEN_PEPPER": "token-pepper-that-must-not-print",
    "QUIETLINE_SMTP_USERNAME": "mailer",
    "QUIETLINE_SMTP_PASSWORD": "smtp-password-that-must-not-print",
    "QUIETLINE_DATABASE_URL": "postgresql+asyncpg://quietline:db-password-not-to-print@db/q",
}


def test_printing_the_settings_shows_no_secret(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings({"QUIETLINE_DATA_DIR": str(tmp_path), **SECRETS})
    logging.getLogger("quietline.test").warning("settings: %s %r", settings, settings)
    shown = [str(settings), repr(settings), f"{settings}", caplog.text]
    shown += [f"{settings.secret_key}", str(settings.token_pepper), repr(settings.smtp_password)]
    for text in shown:
        for secret in ("must-not-print", "db-password-not-to-print"):
            assert secret not in text
    assert "secret_key=Secret('**********')" in repr(settings)
    assert "quietline:***@db/q" in repr(settings)
    # Code that needs a value asks for it.
    assert settings.smtp_password is not None
    assert settings.smtp_password.reveal() == SECRETS["QUIETLINE_SMTP_PASSWORD"]


def test_a_secret_survives_the_trip_to_a_child_process_and_a_replace(tmp_path: Path) -> None:
    settings = load_settings({"QUIETLINE_DATA_DIR": str(tmp_path), **SECRETS})
    assert pickle.loads(pickle.dumps(settings)) == settings
    replaced = dataclasses.replace(settings, smtp_password="another")
    assert isinstance(replaced.smtp_password, Secret)
    assert replaced.smtp_password.reveal() == "another"
    assert Secret("a") == Secret("a") and Secret("a") != Secret("b")


def test_an_empty_secret_is_no_secret(tmp_path: Path) -> None:
    settings = load_settings({"QUIETLINE_DATA_DIR": str(tmp_path), "QUIETLINE_SECRET_KEY": ""})
    assert settings.secret_key is None


def test_every_setting_read_from_the_environment_has_a_variable_and_a_meaning() -> None:
    names = [variable(field) for field in dataclasses.fields(Settings)]
    read = [name for name in names if name is not None]
    assert len(read) == len(set(read)) >= 55
    for field in dataclasses.fields(Settings):
        if variable(field) is not None:
            assert field.metadata["doc"], field.name


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"QUIETLINE_ACK_DAYS": "seven"}, "QUIETLINE_ACK_DAYS: expected a whole number"),
        ({"QUIETLINE_SMTP_TIMEOUT": "soon"}, "QUIETLINE_SMTP_TIMEOUT: expected a number"),
        ({"QUIETLINE_DEV": "maybe"}, "QUIETLINE_DEV: expected true or false"),
        ({"QUIETLINE_DEADLINE_CLOCK": "lunar"}, "must be 'calendar' or 'business'"),
        ({"QUIETLINE_SMTP_TLS": "ssl"}, "must be 'starttls', 'tls' or 'none'"),
        ({"QUIETLINE_TIMEZONE": "Mars/Olympus"}, "QUIETLINE_TIMEZONE: unknown time zone"),
        ({"QUIETLINE_DATABASE_URL": "mysql://x"}, "QUIETLINE_DATABASE_URL must start with"),
        ({"QUIETLINE_CATEGORIES": ""}, "QUIETLINE_CATEGORIES: at least one category"),
        ({"QUIETLINE_RETENTION_MONTHS": "referred=two"}, "QUIETLINE_RETENTION_MONTHS: expected"),
        ({"QUIETLINE_MAIL_DIGEST_HOUR": "24"}, "QUIETLINE_MAIL_DIGEST_HOUR must be an hour"),
        ({"QUIETLINE_SMTP_PORT": "70000"}, "QUIETLINE_SMTP_PORT must be a port number"),
        ({"QUIETLINE_MAIL_POLL_SECONDS": "0"}, "QUIETLINE_MAIL_POLL_SECONDS must be > 0"),
        ({"QUIETLINE_MAIL_DELAY_MAX": "-1"}, "must be 0 or more seconds"),
        ({"QUIETLINE_SMTP_PASSWORD": "x"}, "QUIETLINE_SMTP_USERNAME and QUIETLINE_SMTP_PASSWORD"),
        ({"QUIETLINE_MAIL_FROM": "nobody"}, "QUIETLINE_MAIL_FROM: not an email address"),
        ({"QUIETLINE_QUICK_EXIT_URL": "javascript:x"}, "QUIETLINE_QUICK_EXIT_URL must be"),
        ({"QUIETLINE_SMTP_CA_FILE": "/no/such/ca.pem"}, "QUIETLINE_SMTP_CA_FILE: no such file"),
        ({"QUIETLINE_PURGE_INTERVAL_HOURS": "-1"}, "QUIETLINE_PURGE_INTERVAL_HOURS must not be"),
    ],
)
def test_a_bad_value_is_refused_with_a_message_naming_the_variable(
    tmp_path: Path, environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        load_settings({"QUIETLINE_DATA_DIR": str(tmp_path), **environ})


def test_values_are_read_by_type_and_empty_ones_mean_unset(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "QUIETLINE_DATA_DIR": str(tmp_path),
            "QUIETLINE_DEV": "yes",
            "QUIETLINE_SMTP_TIMEOUT": "2.5",
            "QUIETLINE_SMTP_TLS": " TLS ",
            "QUIETLINE_SMTP_HOST": "",
            "QUIETLINE_HOLIDAYS": "2026-12-25, 2026-12-26,",
            "QUIETLINE_RETENTION_MONTHS": "",
            "QUIETLINE_STATS_MIN_CELL": "0",
            "QUIETLINE_QUICK_EXIT_URL": "",
            "QUIETLINE_DATABASE_URL": "",
        }
    )
    assert settings.development is True
    assert settings.smtp_timeout == 2.5
    assert settings.smtp_tls == "tls" and settings.smtp_effective_port == 465
    assert settings.smtp_host is None
    assert settings.holidays == ("2026-12-25", "2026-12-26")
    assert settings.retention_months == ()  # nothing is deleted automatically
    assert settings.stats_min_cell == 1
    assert settings.quick_exit_url == "https://weather.gc.ca/"
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path.resolve() / 'quietline.db'}"
    assert settings.guidance_dir == tmp_path.resolve() / "guidance"


def test_the_data_dir_flag_wins_over_the_environment(tmp_path: Path) -> None:
    settings = load_settings({"QUIETLINE_DATA_DIR": "/elsewhere"}, data_dir=tmp_path / "flag")
    assert settings.data_dir == (tmp_path / "flag").resolve()


def test_the_configuration_page_is_what_the_fields_say() -> None:
    """docs/configuration.md is generated: `make config-doc` after changing a setting."""
    assert config_doc.PAGE.read_text(encoding="utf-8") == config_doc.render(), (
        "docs/configuration.md differs from intake/config.py: run make config-doc"
    )
    assert config_doc.main(["--check"]) == 0
    for field in dataclasses.fields(Settings):
        name = variable(field)
        if name is not None:
            assert f"| `{name}` |" in config_doc.render()


def test_staff_networks_are_address_ranges_and_the_header_a_header_name() -> None:
    settings = load_settings(
        {
            "QUIETLINE_STAFF_NETWORKS": "10.20.0.0/16, 192.0.2.7 ,2001:db8::/48",
            "QUIETLINE_STAFF_ADDRESS_HEADER": "X-Quietline-Staff-Address",
        }
    )
    assert [str(network) for network in settings.staff_networks] == [
        "10.20.0.0/16",
        "192.0.2.7/32",
        "2001:db8::/48",
    ]
    assert settings.staff_address_header == "x-quietline-staff-address"
    assert load_settings({}).staff_networks == ()
    with pytest.raises(ConfigError, match="QUIETLINE_STAFF_NETWORKS"):
        load_settings({"QUIETLINE_STAFF_NETWORKS": "10.20.0.0/16, the office"})
    with pytest.raises(ConfigError, match="QUIETLINE_STAFF_ADDRESS_HEADER"):
        load_settings({"QUIETLINE_STAFF_ADDRESS_HEADER": "X-Staff: 1"})
