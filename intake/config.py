"""Settings, read once from the environment (prefix ``QUIETLINE_``).

Everything an operator may change is here, with the default a first look needs.
Settings that staff manage at run time (categories, deadlines) are seeded from
here into the database on first start and edited there afterwards.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.headerregistry import Address
from email.utils import parseaddr
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.config import Config

from intake.i18n import N_

# Labels are catalog message ids: shown translated wherever a catalog has them.
DEFAULT_CATEGORIES = (
    ("financial", N_("Misuse of public money or contract-signing authority")),
    ("social-media", N_("Misuse of the city's social media accounts")),
    ("conduct", N_("Gross mismanagement or abuse of authority")),
    ("safety", N_("Danger to health, safety or the environment")),
    ("reprisal", N_("Reprisal for reporting a concern")),
    ("other", N_("Something else")),
)
DEFAULT_QUICK_EXIT_URL = "https://weather.gc.ca/"


# Months a concluded case is kept, by outcome, before its content is destroyed.
DEFAULT_RETENTION_MONTHS = (
    ("no_action", 2),
    ("not_substantiated", 12),
    ("referred", 24),
    ("substantiated", 36),
)


class ConfigError(ValueError):
    """A setting has a value that cannot be used; the message names it."""


def _bool(value: str | bool) -> bool:
    if isinstance(value, bool):
        return value
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"expected true or false, got {value!r}")


ONION_HOST = re.compile(r"^[a-z2-7]{56}\.onion$")


def _onion(value: str) -> str | None:
    """A v3 onion host name (``<56 base32>.onion``), with or without ``http://``."""
    host = value.strip().lower().removeprefix("http://").rstrip("/")
    if not host:
        return None
    if not ONION_HOST.match(host):
        raise ConfigError(
            "QUIETLINE_ONION_ADDRESS must be a v3 onion host name: 56 letters and digits "
            f"followed by .onion, got {value!r}"
        )
    return host


def _non_negative(name: str, value: float) -> float:
    if value < 0:
        raise ConfigError(f"QUIETLINE_{name} must not be negative")
    return value


def _split_pairs(value: str, setting: str, expected: str) -> list[tuple[str, str]]:
    """Split ``key=value;key=value`` into stripped pairs; both halves must be present."""
    pairs = []
    for item in value.split(";"):
        if not item.strip():
            continue
        key, sep, text = item.partition("=")
        if not sep or not key.strip() or not text.strip():
            raise ConfigError(f"QUIETLINE_{setting}: expected {expected}, got {item!r}")
        pairs.append((key.strip(), text.strip()))
    return pairs


def _categories(value: str | tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """Parse ``id=Label;id=Label`` into pairs."""
    if isinstance(value, tuple):
        return value
    pairs = _split_pairs(value, "CATEGORIES", "id=Label")
    if not pairs:
        raise ConfigError("QUIETLINE_CATEGORIES: at least one category is needed")
    return tuple(pairs)


def _retention(value: str | tuple[tuple[str, int], ...]) -> tuple[tuple[str, int], ...]:
    """Parse ``outcome=months;outcome=months`` into pairs."""
    if isinstance(value, tuple):
        return value
    expected = "outcome=months (whole months)"
    pairs = _split_pairs(value, "RETENTION_MONTHS", expected)
    for outcome, months in pairs:
        if not months.isdigit():
            raise ConfigError(
                f"QUIETLINE_RETENTION_MONTHS: expected {expected}, got {outcome}={months!r}"
            )
    return tuple((outcome, int(months)) for outcome, months in pairs)


def _quick_exit_url(value: str) -> str:
    value = value.strip() or DEFAULT_QUICK_EXIT_URL
    if not value.startswith(("https://", "http://")) or any(c in value for c in '"<> '):
        raise ConfigError("QUIETLINE_QUICK_EXIT_URL must be an http:// or https:// address")
    return value


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    development: bool = False
    categories: tuple[tuple[str, str], ...] = DEFAULT_CATEGORIES
    default_group: str = "solicitor"
    alternate_group: str = "alternate"
    max_report_chars: int = 20_000
    max_message_chars: int = 10_000
    max_request_bytes: int = 256 * 1024
    attachment_max_files: int = 10
    attachment_max_file_bytes: int = 50_000_000
    attachment_max_total_bytes: int = 200_000_000
    attachment_clean_max_bytes: int = 50_000_000
    ack_days: int = 7
    feedback_months: int = 3
    deadline_clock: str = "calendar"
    holidays: tuple[str, ...] = ()
    timezone: str = "UTC"
    password_iterations: int = 3
    password_memory_kib: int = 65536
    secret_key: str | None = None
    token_pepper: str | None = None
    session_idle_minutes: int = 30
    session_hours: int = 12
    login_max_failures: int = 5
    login_lock_minutes: int = 15
    login_global_failures_per_minute: int = 60
    queue_page_size: int = 50
    # Mail (intake/mail): without smtp_host, mail is written as .eml files under <data dir>/mail.
    smtp_host: str | None = None
    smtp_port: int = 0  # 0: by smtp_tls (587 starttls, 465 tls, 25 none)
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_tls: str = "starttls"  # starttls | tls | none
    smtp_ca_file: Path | None = None
    smtp_timeout: float = 30.0
    mail_from: str = "Quietline <quietline@localhost>"
    mail_delay_max: int = 900
    mail_digest_hour: int = 8
    mail_worker: bool = True
    mail_poll_seconds: float = 5.0
    mail_retry_base_seconds: float = 30.0
    mail_retry_max_seconds: float = 900.0
    # HTTP hardening (intake/web/middleware.py). TLS ends at the reverse proxy, so HSTS is a
    # setting.
    hsts_max_age: int = 0
    onion_address: str | None = None
    trusted_proxies: str = ""
    body_idle_timeout: float = 15.0
    body_deadline: float = 120.0
    max_connections: int = 1000
    # Global token buckets per route class, in requests per minute (0 turns one off).
    rate_submissions: int = 6000
    rate_lookups: int = 12000
    rate_signins: int = 120
    retention_months: tuple[tuple[str, int], ...] = DEFAULT_RETENTION_MONTHS
    retention_notice_days: int = 30
    purge_interval_hours: int = 24
    stats_min_cell: int = 5
    # Reporter pages: the "quick exit" link, and the folder of the operator's own guidance texts.
    quick_exit_url: str = DEFAULT_QUICK_EXIT_URL
    guidance_dir: Path | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def smtp_effective_port(self) -> int:
        if self.smtp_port:
            return self.smtp_port
        return {"starttls": 587, "tls": 465, "none": 25}[self.smtp_tls]

    @property
    def mail_dir(self) -> Path:
        """Where mail is written as .eml files when no SMTP server is configured."""
        return self.data_dir / "mail"

    def __repr__(self) -> str:
        # The SMTP password and server secrets never appear in a log line or traceback.
        hidden = {"smtp_password", "secret_key", "token_pepper"}
        shown = ", ".join(
            f"{name}={'<hidden>' if name in hidden and value else repr(value)}"
            for name, value in self.__dict__.items()
        )
        return f"Settings({shown})"


def load_settings(
    environ: Mapping[str, str] | None = None, *, data_dir: str | Path | None = None
) -> Settings:
    """Build settings from ``environ`` (default: the process environment).

    ``data_dir`` (from a ``--data-dir`` flag) wins over ``QUIETLINE_DATA_DIR``.
    """
    config = Config(environ=os.environ if environ is None else environ, env_prefix="QUIETLINE_")
    directory = Path(data_dir or config("DATA_DIR", default="var")).expanduser().resolve()
    default_url = f"sqlite+aiosqlite:///{directory / 'quietline.db'}"
    database_url = config("DATABASE_URL", default="") or default_url
    if not database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise ConfigError(
            "QUIETLINE_DATABASE_URL must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
        )
    clock = config("DEADLINE_CLOCK", default="calendar")
    if clock not in {"calendar", "business"}:
        raise ConfigError("QUIETLINE_DEADLINE_CLOCK must be 'calendar' or 'business'")
    holidays = tuple(
        day.strip() for day in config("HOLIDAYS", default="").split(",") if day.strip()
    )
    timezone = config("TIMEZONE", default="UTC")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"QUIETLINE_TIMEZONE: unknown time zone {timezone!r}") from exc
    smtp_tls = config("SMTP_TLS", default="starttls").strip().lower()
    if smtp_tls not in {"starttls", "tls", "none"}:
        raise ConfigError("QUIETLINE_SMTP_TLS must be 'starttls', 'tls' or 'none'")
    ca_file = config("SMTP_CA_FILE", default="") or None
    if ca_file is not None and not Path(ca_file).is_file():
        raise ConfigError(f"QUIETLINE_SMTP_CA_FILE: no such file {ca_file!r}")
    try:
        settings = Settings(
            data_dir=directory,
            database_url=database_url,
            development=config("DEV", cast=_bool, default=False),
            categories=config("CATEGORIES", cast=_categories, default=DEFAULT_CATEGORIES),
            default_group=config("DEFAULT_GROUP", default="solicitor"),
            alternate_group=config("ALTERNATE_GROUP", default="alternate"),
            max_report_chars=config("MAX_REPORT_CHARS", cast=int, default=20_000),
            max_message_chars=config("MAX_MESSAGE_CHARS", cast=int, default=10_000),
            max_request_bytes=config("MAX_REQUEST_BYTES", cast=int, default=256 * 1024),
            attachment_max_files=config("ATTACHMENT_MAX_FILES", cast=int, default=10),
            attachment_max_file_bytes=config(
                "ATTACHMENT_MAX_FILE_BYTES", cast=int, default=50_000_000
            ),
            attachment_max_total_bytes=config(
                "ATTACHMENT_MAX_TOTAL_BYTES", cast=int, default=200_000_000
            ),
            attachment_clean_max_bytes=config(
                "ATTACHMENT_CLEAN_MAX_BYTES", cast=int, default=50_000_000
            ),
            ack_days=config("ACK_DAYS", cast=int, default=7),
            feedback_months=config("FEEDBACK_MONTHS", cast=int, default=3),
            deadline_clock=clock,
            holidays=holidays,
            timezone=timezone,
            password_iterations=config("PASSWORD_ITERATIONS", cast=int, default=3),
            password_memory_kib=config("PASSWORD_MEMORY_KIB", cast=int, default=65536),
            secret_key=config("SECRET_KEY", default=None),
            token_pepper=config("TOKEN_PEPPER", default=None),
            session_idle_minutes=config("SESSION_IDLE_MINUTES", cast=int, default=30),
            session_hours=config("SESSION_HOURS", cast=int, default=12),
            login_max_failures=config("LOGIN_MAX_FAILURES", cast=int, default=5),
            login_lock_minutes=config("LOGIN_LOCK_MINUTES", cast=int, default=15),
            login_global_failures_per_minute=config(
                "LOGIN_GLOBAL_FAILURES_PER_MINUTE", cast=int, default=60
            ),
            smtp_host=config("SMTP_HOST", default="") or None,
            smtp_port=config("SMTP_PORT", cast=int, default=0),
            smtp_username=config("SMTP_USERNAME", default="") or None,
            smtp_password=config("SMTP_PASSWORD", default="") or None,
            smtp_tls=smtp_tls,
            smtp_ca_file=Path(ca_file).expanduser().resolve() if ca_file else None,
            smtp_timeout=config("SMTP_TIMEOUT", cast=float, default=30.0),
            mail_from=config("MAIL_FROM", default="Quietline <quietline@localhost>"),
            mail_delay_max=config("MAIL_DELAY_MAX", cast=int, default=900),
            mail_digest_hour=config("MAIL_DIGEST_HOUR", cast=int, default=8),
            mail_worker=config("MAIL_WORKER", cast=_bool, default=True),
            mail_poll_seconds=config("MAIL_POLL_SECONDS", cast=float, default=5.0),
            mail_retry_base_seconds=config("MAIL_RETRY_BASE_SECONDS", cast=float, default=30.0),
            mail_retry_max_seconds=config("MAIL_RETRY_MAX_SECONDS", cast=float, default=900.0),
            hsts_max_age=config("HSTS_MAX_AGE", cast=int, default=0),
            onion_address=_onion(config("ONION_ADDRESS", default="")),
            trusted_proxies=config("TRUSTED_PROXIES", default="").strip(),
            body_idle_timeout=config("BODY_IDLE_TIMEOUT", cast=float, default=15.0),
            body_deadline=config("BODY_DEADLINE", cast=float, default=120.0),
            max_connections=config("MAX_CONNECTIONS", cast=int, default=1000),
            rate_submissions=config("RATE_SUBMISSIONS", cast=int, default=6000),
            rate_lookups=config("RATE_LOOKUPS", cast=int, default=12000),
            rate_signins=config("RATE_SIGNINS", cast=int, default=120),
            retention_months=config(
                "RETENTION_MONTHS", cast=_retention, default=DEFAULT_RETENTION_MONTHS
            ),
            retention_notice_days=_non_negative(
                "RETENTION_NOTICE_DAYS", config("RETENTION_NOTICE_DAYS", cast=int, default=30)
            ),
            purge_interval_hours=_non_negative(
                "PURGE_INTERVAL_HOURS", config("PURGE_INTERVAL_HOURS", cast=int, default=24)
            ),
            stats_min_cell=max(
                1, _non_negative("STATS_MIN_CELL", config("STATS_MIN_CELL", cast=int, default=5))
            ),
            quick_exit_url=_quick_exit_url(config("QUICK_EXIT_URL", default="")),
            guidance_dir=Path(config("GUIDANCE_DIR", default="") or directory / "guidance"),
        )
        for name in (
            "hsts_max_age",
            "body_idle_timeout",
            "body_deadline",
            "max_connections",
            "rate_submissions",
            "rate_lookups",
            "rate_signins",
        ):
            _non_negative(name.upper(), getattr(settings, name))
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    _check_mail(settings)
    return settings


def _check_mail(settings: Settings) -> None:
    if settings.mail_delay_max < 0:
        raise ConfigError("QUIETLINE_MAIL_DELAY_MAX must be 0 or more seconds")
    if not 0 <= settings.mail_digest_hour <= 23:
        raise ConfigError("QUIETLINE_MAIL_DIGEST_HOUR must be an hour from 0 to 23")
    if not 0 <= settings.smtp_port <= 65535:
        raise ConfigError("QUIETLINE_SMTP_PORT must be a port number")
    if settings.mail_poll_seconds <= 0 or settings.smtp_timeout <= 0:
        raise ConfigError("QUIETLINE_MAIL_POLL_SECONDS and QUIETLINE_SMTP_TIMEOUT must be > 0")
    if not 0 < settings.mail_retry_base_seconds <= settings.mail_retry_max_seconds:
        raise ConfigError(
            "QUIETLINE_MAIL_RETRY_BASE_SECONDS must be > 0 and at most "
            "QUIETLINE_MAIL_RETRY_MAX_SECONDS"
        )
    if bool(settings.smtp_username) != bool(settings.smtp_password):
        raise ConfigError("QUIETLINE_SMTP_USERNAME and QUIETLINE_SMTP_PASSWORD go together")
    problem = f"QUIETLINE_MAIL_FROM: not an email address: {settings.mail_from!r}"
    _, address = parseaddr(settings.mail_from)
    try:
        Address(addr_spec=address)
    except (ValueError, IndexError) as exc:
        raise ConfigError(problem) from exc
    if "@" not in address:
        raise ConfigError(problem)
