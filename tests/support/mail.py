"""A real SMTP server (aiosmtpd) on loopback for the mail tests, with optional TLS and AUTH."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.live import free_port


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost; returns (cert, key) paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "quietline test mail server")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    authenticated_as: str | None
    over_tls: bool

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def body(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None
        return str(part.get_content())


@dataclass
class SmtpServer:
    """aiosmtpd in a thread on a fixed loopback port, so it can be stopped and restarted.

    ``tls``: None (plain), "starttls" (required before MAIL) or "tls" (implicit).
    ``users``: logins it accepts (AUTH is then required, over TLS).
    ``refuse``: a function given the count of DATA commands so far that may
    return an SMTP error reply (e.g. "451 4.3.0 try later") to refuse that one.
    """

    tmp: Path
    tls: str | None = None
    users: dict[str, str] = field(default_factory=dict)
    refuse: Callable[[int], str | None] | None = None
    port: int = field(default_factory=free_port)
    received: list[Received] = field(default_factory=list)
    data_commands: int = 0
    controller: Controller | None = None
    cert: Path | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.tls:
            self.cert, self.key = make_certificate(self.tmp / f"smtp-{self.port}")

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd hook
        with self._lock:
            self.data_commands += 1
            refusal = self.refuse(self.data_commands) if self.refuse else None
            if refusal:
                return refusal
            self.received.append(
                Received(
                    mail_from=envelope.mail_from,
                    rcpt_tos=tuple(envelope.rcpt_tos),
                    data=envelope.original_content or envelope.content,
                    authenticated_as=session.auth_data.login.decode()
                    if session.authenticated and isinstance(session.auth_data, LoginPassword)
                    else None,
                    over_tls=session.ssl is not None
                    or server.transport.get_extra_info("ssl_object") is not None,
                )
            )
        return "250 2.0.0 accepted"

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = self.users.get(auth_data.login.decode()) == auth_data.password.decode()
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    def _server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(self.cert), str(self.key))
        return context

    def start(self) -> SmtpServer:
        parameters: dict[str, object] = {}
        if self.tls == "starttls":
            parameters.update(tls_context=self._server_context(), require_starttls=True)
        if self.users:
            parameters.update(
                authenticator=self._authenticate, auth_required=True, auth_require_tls=True
            )
        controller = Controller(
            self,
            hostname="127.0.0.1",
            port=self.port,
            ssl_context=self._server_context() if self.tls == "tls" else None,
            server_hostname="localhost",
            **parameters,
        )
        controller.start()
        self.controller = controller
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def messages(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def wait_for(self, count: int, timeout: float = 60) -> list[Received]:
        """Poll until at least ``count`` messages arrived (bounded), then return them all."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.messages()
            if len(got) >= count:
                return got
            time.sleep(0.02)
        raise AssertionError(f"expected {count} messages, got {len(self.messages())}")

    async def arrived(self, count: int, limit: float = 60) -> list[Received]:
        """The same, for async tests: waits without blocking the event loop."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            got = self.messages()
            if len(got) >= count:
                return got
            await asyncio.sleep(0.02)
        raise AssertionError(f"expected {count} messages, got {len(self.messages())}")

    def settings(self, *, ca: bool = True, password: str | None = None) -> dict[str, object]:
        """Settings changes that point Quietline at this server."""
        changes: dict[str, object] = {
            "smtp_host": "127.0.0.1",
            "smtp_port": self.port,
            "smtp_tls": self.tls or "none",
            "smtp_ca_file": self.cert if (self.tls and ca) else None,
        }
        if self.users:
            user = next(iter(self.users))
            changes.update(smtp_username=user, smtp_password=password or self.users[user])
        return changes

    def environ(self, *, ca: bool = True, password: str | None = None) -> dict[str, str]:
        names = {
            "smtp_host": "QUIETLINE_SMTP_HOST",
            "smtp_port": "QUIETLINE_SMTP_PORT",
            "smtp_tls": "QUIETLINE_SMTP_TLS",
            "smtp_ca_file": "QUIETLINE_SMTP_CA_FILE",
            "smtp_username": "QUIETLINE_SMTP_USERNAME",
            "smtp_password": "QUIETLINE_SMTP_PASSWORD",
        }
        return {
            names[key]: str(value)
            for key, value in self.settings(ca=ca, password=password).items()
            if value is not None
        }


# Fast, immediate mail for tests: no random delay, quick polls and retries.
FAST_MAIL = {
    "mail_delay_max": 0,
    "mail_poll_seconds": 0.05,
    "mail_retry_base_seconds": 0.05,
    "mail_retry_max_seconds": 0.3,
    "mail_from": "Quietline <quietline@city.example>",
}
FAST_MAIL_ENVIRON = {
    "QUIETLINE_MAIL_DELAY_MAX": "0",
    "QUIETLINE_MAIL_POLL_SECONDS": "0.05",
    "QUIETLINE_MAIL_RETRY_BASE_SECONDS": "0.05",
    "QUIETLINE_MAIL_RETRY_MAX_SECONDS": "0.3",
    "QUIETLINE_MAIL_FROM": "Quietline <quietline@city.example>",
}
