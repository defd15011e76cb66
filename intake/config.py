"""Settings, read once from the environment (prefix ``QUIETLINE_``).

Everything an operator may change is here, with the default a first look needs.
Each setting is one field of :class:`Settings`: its name, type and default are
the field's, and its variable and meaning are in the field's metadata (see
intake/config_fields.py, which reads every field the same way, by its type);
docs/configuration.md is generated from the same fields
(``python -m intake.devtools.config_doc``). Secrets are :class:`~intake.secret.Secret`
values, which never print.

Settings that staff manage at run time (categories, deadlines) are seeded from
here into the database on first start and edited there afterwards.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from email.headerregistry import Address
from email.utils import parseaddr
from pathlib import Path
from typing import Literal

from intake.config_fields import (
    PREFIX,
    ConfigError,
    Network,
    existing_file,
    hour,
    known_time_zone,
    members,
    non_negative,
    parse_categories,
    parse_comma_list,
    parse_header_name,
    parse_min_cell,
    parse_networks,
    parse_onion,
    parse_public_key,
    parse_retention,
    parse_stripped,
    port,
    positive,
    read_fields,
    seconds_or_more,
    setting,
    supported_database_url,
)
from intake.i18n import N_
from intake.secret import Secret

__all__ = ["ConfigError", "Settings", "load_settings"]

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


def parse_quick_exit_url(name: str, value: str) -> str:
    value = value.strip() or DEFAULT_QUICK_EXIT_URL
    if not value.startswith(("https://", "http://")) or any(c in value for c in '"<> '):
        raise ConfigError(f"{name} must be an http:// or https:// address")
    return value


def parse_age_recipients(name: str, value: str) -> tuple[str, ...]:
    """age public keys (``age1...``), separated by commas or spaces; `quietline backup`
    checks each fully when it encrypts."""
    keys = tuple(part for part in re.split(r"[\s,]+", value) if part)
    for key in keys:
        if not key.startswith("age1"):
            raise ConfigError(f"{name} takes age public keys (age1...), separated by commas")
    return keys


def parse_addresses(name: str, value: str) -> tuple[str, ...]:
    """A comma-separated list of plain email addresses."""
    addresses = parse_comma_list(name, value)
    for address in addresses:
        try:
            Address(addr_spec=address)
        except (ValueError, IndexError):
            raise ConfigError(f"{name}: not an email address: {address!r}") from None
        if "@" not in address:
            raise ConfigError(f"{name}: not an email address: {address!r}")
    return addresses


@dataclass(frozen=True)
class Settings:
    data_dir: Path = setting(
        env="DATA_DIR",
        unset="var",
        shown="`./var`",
        doc="data directory: SQLite database, server secrets",
    )
    database_url: str = setting(
        env="DATABASE_URL",
        shown="SQLite in the data directory",
        doc="`postgresql+asyncpg://user@host/db` for PostgreSQL",
        check=supported_database_url,
        derived=lambda data_dir: f"sqlite+aiosqlite:///{data_dir / 'quietline.db'}",
    )
    sqlite_driver: Literal["fast", "stock"] = setting(
        "fast",
        env="SQLITE_DRIVER",
        doc="`fast`: Quietline's SQLite dialect, one trip to the driver's thread per statement "
        "(intake/storage/sqlite_driver.py); `stock`: SQLAlchemy's own aiosqlite dialect, "
        "slower, for a SQLAlchemy release that moved the internals the fast one uses",
    )
    development: bool = setting(
        False,
        env="DEV",
        doc="local development: cookies without `Secure`, and `demo` / `serve --demo` allowed",
    )
    categories: tuple[tuple[str, str], ...] = setting(
        DEFAULT_CATEGORIES,
        env="CATEGORIES",
        shown="six built-in categories",
        doc="seed list, `id=Label;id=Label` (first start only)",
        parse=parse_categories,
    )
    default_group: str = setting(
        "solicitor", env="DEFAULT_GROUP", doc="the group that receives reports"
    )
    alternate_group: str = setting(
        "alternate",
        env="ALTERNATE_GROUP",
        doc="the group for reports that involve the default group",
    )
    identity_disclosure_told_by_office: bool = setting(
        False,
        env="IDENTITY_DISCLOSURE_TOLD_BY_OFFICE",
        doc="`true`: a confidential reporter's status page does not say when their identity was "
        "opened to an officer (the office tells them itself); `false`: it says to which role "
        "and on which day",
    )
    max_report_chars: int = setting(20_000, env="MAX_REPORT_CHARS", doc="longest report text")
    max_message_chars: int = setting(
        10_000, env="MAX_MESSAGE_CHARS", doc="longest follow-up message"
    )
    search_max_cases: int = setting(
        200,
        env="SEARCH_MAX_CASES",
        doc="most cases one search in a staff member's own cases decrypts and reads, newest "
        "first (the page says when the limit cut a search short)",
        check=positive,
    )
    max_request_bytes: int = setting(
        256 * 1024,
        env="MAX_REQUEST_BYTES",
        doc="largest request body outside uploads (and the text fields of an upload)",
    )
    attachment_max_files: int = setting(
        10, env="ATTACHMENT_MAX_FILES", doc="files per report or message"
    )
    attachment_max_file_bytes: int = setting(
        50_000_000, env="ATTACHMENT_MAX_FILE_BYTES", doc="largest file (50 MB)"
    )
    attachment_max_total_bytes: int = setting(
        200_000_000,
        env="ATTACHMENT_MAX_TOTAL_BYTES",
        doc="all files of one report or message together (200 MB)",
    )
    attachment_clean_max_bytes: int = setting(
        50_000_000,
        env="ATTACHMENT_CLEAN_MAX_BYTES",
        doc="largest PDF or Office document that is cleaned (larger ones are kept as sent, "
        'flagged "not cleaned: too large")',
    )
    # The storage budget of reporters' files (intake/attachments/budget.py): shared by every
    # process of one database. Staff uploads and text-only reports are never refused by it.
    attachment_budget_hour_bytes: int = setting(
        1_000_000_000,
        env="ATTACHMENT_BUDGET_HOUR_BYTES",
        doc="attachment bytes reporters' requests may store in one hour, all processes together "
        "(1 GB: five reports with the largest files allowed); beyond it files are refused "
        "with 507 until the hour ends; `0` is no limit",
        check=non_negative,
    )
    attachment_budget_total_bytes: int = setting(
        50_000_000_000,
        env="ATTACHMENT_BUDGET_TOTAL_BYTES",
        doc="attachment bytes reporters' files may occupy in the database in all (50 GB); "
        "beyond it files are refused with 507 until retention or the operator frees space; "
        "`0` is no limit",
        check=non_negative,
    )
    attachment_min_free_bytes: int = setting(
        2_000_000_000,
        env="ATTACHMENT_MIN_FREE_BYTES",
        doc="free space the data directory's disk must keep (2 GB): below it reporters' files "
        "are refused with 507; `0` is no floor",
        check=non_negative,
    )
    ack_days: int = setting(
        7,
        env="ACK_DAYS",
        doc="days to acknowledge a report (starting value: administrators change deadlines at "
        "`/admin/deadlines`)",
    )
    feedback_months: int = setting(
        3, env="FEEDBACK_MONTHS", doc="months from acknowledgement to feedback"
    )
    deadline_clock: Literal["calendar", "business"] = setting(
        "calendar",
        env="DEADLINE_CLOCK",
        doc="`calendar` or `business` (skips weekends and holidays)",
    )
    holidays: tuple[str, ...] = setting(
        (),
        env="HOLIDAYS",
        doc="comma-separated ISO dates, for the business-day clock",
        parse=parse_comma_list,
    )
    timezone: str = setting(
        "UTC",
        env="TIMEZONE",
        doc="the office's time zone (reporter times are kept to its day)",
        check=known_time_zone,
    )
    password_iterations: int = setting(
        3, env="PASSWORD_ITERATIONS", doc="Argon2id passes for staff passwords"
    )
    password_memory_kib: int = setting(
        65536, env="PASSWORD_MEMORY_KIB", doc="Argon2id memory for staff passwords"
    )
    secret_key: Secret | None = setting(
        None,
        env="SECRET_KEY",
        shown="generated",
        doc="session signing key (URL-safe base64, 32+ bytes); never printed",
    )
    token_pepper: Secret | None = setting(
        None,
        env="TOKEN_PEPPER",
        shown="generated",
        doc="token lookup pepper (URL-safe base64, 32+ bytes); never printed",
    )
    root_public_key: bytes | None = setting(
        None,
        env="ROOT_PUBLIC_KEY",
        shown="`root_public_key` in the server secrets file",
        doc="the office root key's public half, as `quietline keys ceremony` prints it: the "
        "recipient directory is verified against it; pinned here or by `quietline keys "
        "install`, never in the database",
        parse=parse_public_key,
    )
    audit_keys: Secret | None = setting(
        None,
        env="AUDIT_KEYS",
        shown="`audit_keys` in the server secrets file",
        doc="the audit chain's MAC keys (URL-safe base64, 32+ bytes each), comma-separated, "
        "the key new events use first and older keys after it (kept to verify); never printed",
    )
    audit_signing_key: Secret | None = setting(
        None,
        env="AUDIT_SIGNING_KEY",
        shown="`audit_signing_key` in the server secrets file",
        doc="the private half of the Ed25519 key that signs audit checkpoints (URL-safe base64, "
        "32 bytes); never printed",
    )
    audit_witness_file: Path | None = setting(
        None,
        env="AUDIT_WITNESS_FILE",
        shown="`audit-witness.txt` in the data directory",
        doc="where each signed audit checkpoint is appended (and synced to disk): put it on "
        "another volume or host, out of reach of whoever can write the database",
        derived=lambda data_dir: str(data_dir / "audit-witness.txt"),
    )
    audit_witnesses: tuple[str, ...] = setting(
        (),
        env="AUDIT_WITNESSES",
        shown="none",
        doc="email addresses (comma-separated) sent the latest signed audit checkpoint once a "
        "day, at `QUIETLINE_MAIL_DIGEST_HOUR`: people outside the office, such as the clerk "
        "and the auditor",
        parse=parse_addresses,
    )
    session_idle_minutes: int = setting(
        30,
        env="SESSION_IDLE_MINUTES",
        doc="staff are signed out after this long without activity",
    )
    session_hours: int = setting(12, env="SESSION_HOURS", doc="longest staff session")
    login_max_failures: int = setting(
        5,
        env="LOGIN_MAX_FAILURES",
        doc="failed sign-ins or password changes in a row before an account is locked (each "
        "attempt is counted before its password is checked)",
        check=positive,
    )
    login_lock_minutes: int = setting(
        15, env="LOGIN_LOCK_MINUTES", doc="how long such a lock lasts"
    )
    login_global_failures_per_minute: int = setting(
        60,
        env="LOGIN_GLOBAL_FAILURES_PER_MINUTE",
        doc="failed sign-ins a minute (all accounts, all processes) beyond which every sign-in "
        "from outside `QUIETLINE_STAFF_NETWORKS` is slowed down; `0` turns it off",
        check=non_negative,
    )
    login_slowdown_seconds: float = setting(
        5.0,
        env="LOGIN_SLOWDOWN_SECONDS",
        doc="how long such a sign-in waits before its password is checked",
        check=non_negative,
    )
    staff_networks: tuple[Network, ...] = setting(
        (),
        env="STAFF_NETWORKS",
        shown="none (everywhere)",
        doc="address ranges, comma-separated (`10.20.0.0/16, 2001:db8::/48`), from which staff "
        "pages and the staff API answer; elsewhere they answer 404, and sign-ins from them are "
        "never slowed down. The address is checked, never stored or logged",
        parse=parse_networks,
    )
    staff_address_header: str = setting(
        "",
        env="STAFF_ADDRESS_HEADER",
        shown="none (the connection's address)",
        doc="behind a proxy: the request header the proxy sets to the client's address on staff "
        "paths only (the `deploy/` nginx sends `X-Quietline-Staff-Address`); only then may the "
        "app be reachable through that proxy alone",
        parse=parse_header_name,
    )
    smtp_host: str | None = setting(
        None,
        env="SMTP_HOST",
        doc="mail server; unset, each email is written as an `.eml` file under `<data dir>/mail/`",
    )
    smtp_port: int = setting(
        0,
        env="SMTP_PORT",
        shown="by `_TLS`: 587, 465, 25",
        doc="mail server port",
        check=port,
    )
    smtp_username: str | None = setting(
        None, env="SMTP_USERNAME", doc="login name (with `_PASSWORD`; both or neither)"
    )
    smtp_password: Secret | None = setting(
        None, env="SMTP_PASSWORD", doc="login password (never logged or printed)"
    )
    smtp_tls: Literal["starttls", "tls", "none"] = setting(
        "starttls",
        env="SMTP_TLS",
        doc="`starttls` (required, never opportunistic), `tls` (TLS from the first byte), "
        "or `none` (trusted local link only)",
    )
    smtp_ca_file: Path | None = setting(
        None,
        env="SMTP_CA_FILE",
        shown="system CAs",
        doc="a PEM file with a CA to trust as well, for a server with its own CA",
        check=existing_file,
    )
    smtp_timeout: float = setting(
        30.0,
        env="SMTP_TIMEOUT",
        doc="seconds to wait for each answer of the mail server",
        check=positive,
    )
    mail_from: str = setting(
        "Quietline <quietline@localhost>", env="MAIL_FROM", doc="sender of every email"
    )
    mail_delay_max: int = setting(
        900,
        env="MAIL_DELAY_MAX",
        doc="a notice leaves after a random delay of up to this many seconds; `0` sends at once",
        check=seconds_or_more,
    )
    mail_digest_hour: int = setting(
        8,
        env="MAIL_DIGEST_HOUR",
        doc="hour of the daily digest, in `QUIETLINE_TIMEZONE`",
        check=hour,
    )
    mail_worker: bool = setting(
        True,
        env="MAIL_WORKER",
        doc="run the outbox worker inside `serve`; `false` where `quietline mail run` runs on "
        "its own",
    )
    mail_poll_seconds: float = setting(
        5.0,
        env="MAIL_POLL_SECONDS",
        doc="how often the worker looks for mail that is due",
        check=positive,
    )
    mail_retry_base_seconds: float = setting(
        30.0,
        env="MAIL_RETRY_BASE_SECONDS",
        doc="wait before retrying a failed delivery; doubles on each failure",
    )
    mail_retry_max_seconds: float = setting(
        900.0,
        env="MAIL_RETRY_MAX_SECONDS",
        doc="the longest wait between retries (mail is retried until it is accepted)",
    )
    # Global token buckets per route class, in requests per minute (0 turns one off).
    rate_submissions: int = setting(
        6000,
        env="RATE_SUBMISSIONS",
        doc="reports a minute (page and API; all processes of a PostgreSQL database together) "
        "before 429; `0` is no limit",
        check=non_negative,
    )
    rate_lookups: int = setting(
        12000,
        env="RATE_LOOKUPS",
        doc="token look-ups and reporter messages a minute (all processes together); `0` is no "
        "limit",
        check=non_negative,
    )
    rate_signins: int = setting(
        120,
        env="RATE_SIGNINS",
        doc="staff sign-in attempts a minute (all processes together); `0` is no limit",
        check=non_negative,
    )
    # HTTP hardening (intake/web/middleware.py). TLS ends at the reverse proxy, so HSTS is a
    # setting.
    max_connections: int = setting(
        1000,
        env="MAX_CONNECTIONS",
        doc="concurrent connections per process (503 beyond)",
        check=non_negative,
    )
    body_idle_timeout: float = setting(
        15.0,
        env="BODY_IDLE_TIMEOUT",
        doc="seconds to wait for the next piece of a request body (408 after)",
        check=non_negative,
    )
    body_deadline: float = setting(
        120.0,
        env="BODY_DEADLINE",
        doc="seconds for a whole request body outside uploads (408 after)",
        check=non_negative,
    )
    hsts_max_age: int = setting(
        0,
        env="HSTS_MAX_AGE",
        shown="`0` (off)",
        doc="send `Strict-Transport-Security: max-age=N` (when TLS ends in front and the proxy "
        "does not send it)",
        check=non_negative,
    )
    onion_address: str | None = setting(
        None,
        env="ONION_ADDRESS",
        doc="the v3 onion host name; pages then send `Onion-Location`",
        parse=parse_onion,
    )
    trusted_proxies: str = setting(
        "",
        env="TRUSTED_PROXIES",
        shown="none",
        doc="addresses of a proxy whose forwarded headers uvicorn may read (addresses are still "
        "never logged); leave empty behind the `deploy/` nginx, which sends none",
        parse=parse_stripped,
    )
    retention_months: tuple[tuple[str, int], ...] = setting(
        DEFAULT_RETENTION_MONTHS,
        env="RETENTION_MONTHS",
        shown="`" + ";".join(f"{o}={m}" for o, m in DEFAULT_RETENTION_MONTHS) + "`",
        doc="months a concluded case is kept, by outcome, counted from the day it was "
        "concluded; an outcome not listed is never deleted automatically",
        parse=parse_retention,
    )
    retention_notice_days: int = setting(
        30,
        env="RETENTION_NOTICE_DAYS",
        doc="key holders are told this many days before a case is deleted; deletion never "
        "comes sooner after the notice",
        check=non_negative,
    )
    purge_interval_hours: int = setting(
        24,
        env="PURGE_INTERVAL_HOURS",
        doc="how often `serve` runs retention (first run a minute after start); `0` turns it "
        "off (then run `quietline purge` from cron)",
        check=non_negative,
    )
    stats_min_cell: int = setting(
        5,
        env="STATS_MIN_CELL",
        doc='statistics show counts below this as "fewer than N"',
        parse=parse_min_cell,
    )
    # Reporter pages: the "quick exit" link, and the folder of the operator's own guidance texts.
    quick_exit_url: str = setting(
        DEFAULT_QUICK_EXIT_URL,
        env="QUICK_EXIT_URL",
        doc='where the "Quick exit" link on every reporter page leads',
        parse=parse_quick_exit_url,
    )
    guidance_dir: Path | None = setting(
        None,
        env="GUIDANCE_DIR",
        shown="`guidance/` in the data directory",
        doc="the operator's own guidance pages: `<page>.<language>.html` replaces one built-in "
        "page in one language (intake/web/reporter/guidance.py)",
        derived=lambda data_dir: str(data_dir / "guidance"),
    )
    backup_recipients: tuple[str, ...] = setting(
        (),
        env="BACKUP_RECIPIENTS",
        shown="none",
        doc="age public keys (`age1...`, comma-separated) that `quietline backup` encrypts to "
        "when no `--to` is given; keep their identities off this machine",
        parse=parse_age_recipients,
    )
    # Not read from the environment: the staff queue's page length.
    queue_page_size: int = 50

    def __post_init__(self) -> None:
        # A secret given as a plain string (dataclasses.replace in a test) is wrapped all the same.
        for field in secret_fields():
            value = getattr(self, field)
            if isinstance(value, str):
                object.__setattr__(self, field, Secret(value))

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
        # Secrets print as Secret('**********'); a database password is masked as well.
        shown = []
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            text = masked_url(value) if field.name == "database_url" else repr(value)
            shown.append(f"{field.name}={text}")
        return f"Settings({', '.join(shown)})"

    __str__ = __repr__


@functools.cache
def secret_fields() -> tuple[str, ...]:
    """The names of the fields whose type is :class:`Secret`."""
    hints = typing.get_type_hints(Settings)
    return tuple(name for name, hint in hints.items() if Secret in members(hint))


def masked_url(url: str) -> str:
    """``url`` with the password of its user part replaced by ``***``, quoted for a repr."""
    return repr(re.sub(r"(://[^/@:]*:)[^/@]*@", r"\1***@", url))


def load_settings(
    environ: Mapping[str, str] | None = None, *, data_dir: str | Path | None = None
) -> Settings:
    """Build settings from ``environ`` (default: the process environment).

    ``data_dir`` (from a ``--data-dir`` flag) wins over ``QUIETLINE_DATA_DIR``.
    """
    environ = os.environ if environ is None else environ
    if data_dir:
        environ = {**environ, PREFIX + "DATA_DIR": str(data_dir)}
    settings = Settings(**read_fields(Settings, environ))
    _check_together(settings)
    return settings


def _check_together(settings: Settings) -> None:
    """Checks that concern more than one setting."""
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
