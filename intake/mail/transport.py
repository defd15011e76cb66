"""How an email leaves: SMTP with aiosmtplib, or an .eml file when no server is set.

``transport_for(settings)`` picks one. Both are async context managers with
``send(message)``, which returns only once the message is accepted (the SMTP
server answered 250, or the file is on disk) and raises on anything else.
``describe_failure`` turns any failure into one sentence an operator can act
on (it may quote the server's reply, never the message).
"""

from __future__ import annotations

import os
import socket
import ssl
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Protocol

import aiosmtplib
import anyio.to_thread

from intake.config import Settings


class Transport(Protocol):
    async def __aenter__(self) -> Transport: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

    async def send(self, message: EmailMessage) -> None: ...

    def describe(self) -> str: ...


class SmtpTransport:
    """One SMTP connection for a batch of messages."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client: aiosmtplib.SMTP | None = None

    def describe(self) -> str:
        settings = self.settings
        where = f"{settings.smtp_host}:{settings.smtp_effective_port} ({settings.smtp_tls})"
        return f"{where} as {settings.smtp_username}" if settings.smtp_username else where

    async def __aenter__(self) -> SmtpTransport:
        settings = self.settings
        # start_tls=None would upgrade opportunistically; say exactly what is wanted.
        client = aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_effective_port,
            username=settings.smtp_username,
            password=settings.smtp_password.reveal() if settings.smtp_password else None,
            use_tls=settings.smtp_tls == "tls",
            start_tls=settings.smtp_tls == "starttls",
            cert_bundle=str(settings.smtp_ca_file) if settings.smtp_ca_file else None,
            timeout=settings.smtp_timeout,
        )
        await client.connect()
        self.client = client
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        try:
            await client.quit()
        except (TimeoutError, aiosmtplib.SMTPException, OSError):
            client.close()

    async def send(self, message: EmailMessage) -> None:
        if self.client is None or not self.client.is_connected:
            raise aiosmtplib.SMTPServerDisconnected("the connection to the mail server closed")
        # Raises unless the server accepted the message for its (single) recipient.
        await self.client.send_message(message)


class EmlTransport:
    """Writes each message to ``<data dir>/mail/<random>.eml`` (0600, directory 0700).

    The file name comes from the random Message-ID, so writing the same email
    twice (a retry after a crash) leaves one file.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def describe(self) -> str:
        return f"files in {self.directory}"

    async def __aenter__(self) -> EmlTransport:
        await anyio.to_thread.run_sync(self._prepare)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        return None

    def _prepare(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)

    def path_for(self, message: EmailMessage) -> Path:
        name = str(message["Message-ID"]).strip("<>").partition("@")[0]
        if not name or not name.isalnum():
            raise ValueError("a message without a usable Message-ID")
        return self.directory / f"{name}.eml"

    async def send(self, message: EmailMessage) -> None:
        await anyio.to_thread.run_sync(self._write, self.path_for(message), message.as_bytes())

    def _write(self, path: Path, data: bytes) -> None:
        partial = path.with_suffix(".part")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)


def transport_for(settings: Settings) -> Transport:
    if settings.smtp_host:
        return SmtpTransport(settings)
    return EmlTransport(settings.mail_dir)


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def describe_failure(exc: BaseException, settings: Settings) -> str:
    """One sentence on what went wrong and what to check, for a log line or the CLI."""
    chain = _causes(exc)
    if not settings.smtp_host:
        oserror = next((c for c in chain if isinstance(c, OSError)), None)
        reason = oserror.strerror if oserror and oserror.strerror else type(exc).__name__
        return f"could not write the email under {settings.mail_dir}: {reason}"
    where = f"{settings.smtp_host}:{settings.smtp_effective_port}"
    for cause in chain:
        if isinstance(cause, ssl.SSLCertVerificationError):
            reason = cause.verify_message or "unknown reason"
            return (
                f"the TLS certificate of the mail server {where} could not be verified "
                f"({reason}); if it is signed by your own CA, set QUIETLINE_SMTP_CA_FILE"
            )
    for cause in chain:
        if isinstance(cause, ssl.SSLError):
            return (
                f"TLS with the mail server {where} failed ({cause.reason or cause}); "
                "check QUIETLINE_SMTP_TLS (starttls for port 587, tls for port 465)"
            )
    for cause in chain:
        if isinstance(cause, ConnectionRefusedError):
            return (
                f"the mail server {where} refused the connection: "
                "is it running, and is the port right?"
            )
        if isinstance(cause, socket.gaierror):
            return f"the mail server's name {settings.smtp_host!r} could not be resolved"
    first = chain[0]
    if isinstance(first, aiosmtplib.SMTPAuthenticationError):
        return (
            f"the mail server {where} refused the user name or password "
            f"({first.code} {first.message}); check QUIETLINE_SMTP_USERNAME and _PASSWORD"
        )
    if isinstance(first, aiosmtplib.SMTPTimeoutError | TimeoutError):
        return f"the mail server {where} did not answer in time"
    if isinstance(first, aiosmtplib.SMTPRecipientsRefused):
        codes = ", ".join(f"{r.code}" for r in first.recipients)
        return f"the mail server {where} refused the recipient ({codes})"
    if isinstance(first, aiosmtplib.SMTPNotSupported) and "STARTTLS" in str(first).upper():
        return (
            f"the mail server {where} does not offer STARTTLS; use QUIETLINE_SMTP_TLS=tls "
            "for a TLS port, or none only on a trusted local network"
        )
    if isinstance(first, aiosmtplib.SMTPNotSupported | aiosmtplib.SMTPException) and (
        "AUTH" in str(first).upper()
    ):
        return f"the mail server {where} does not accept a login here: {first}"
    if isinstance(first, aiosmtplib.SMTPResponseException):
        kind = "temporarily " if 400 <= first.code < 500 else ""
        return f"the mail server {where} {kind}refused the message ({first.code} {first.message})"
    if isinstance(first, aiosmtplib.SMTPServerDisconnected):
        return f"the mail server {where} closed the connection unexpectedly"
    if isinstance(first, OSError):
        return f"could not reach the mail server {where}: {first.strerror or type(first).__name__}"
    return f"sending through {where} failed: {type(first).__name__}"


def failure_code(exc: BaseException) -> str:
    """A short label for the outbox row and logs: the SMTP code or the error's type."""
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"{type(exc).__name__} {exc.code}"
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return "SMTPRecipientsRefused " + ",".join(str(r.code) for r in exc.recipients)
    return type(exc).__name__
