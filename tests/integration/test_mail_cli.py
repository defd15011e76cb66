"""The ``quietline mail`` and ``staff notify`` commands, run as an operator would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.support.instance import quietline_environ
from tests.support.live import LiveServer, free_port
from tests.support.mail import FAST_MAIL_ENVIRON, SmtpServer


def run(
    data_dir: Path, *args: str, stdin: str = "", **environ: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "intake.cli", "--data-dir", str(data_dir), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **quietline_environ(data_dir), **FAST_MAIL_ENVIRON, **environ},
    )


def test_mail_test_without_smtp_host_writes_a_private_eml_file(tmp_path: Path) -> None:
    result = run(tmp_path, "mail", "test", "--to", "clerk@city.example")
    assert result.returncode == 0, result.stderr
    files = list((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 1 and str(files[0]) in result.stdout
    assert oct(files[0].stat().st_mode & 0o777) == "0o600"
    assert oct((tmp_path / "mail").stat().st_mode & 0o777) == "0o700"
    assert b"To: clerk@city.example" in files[0].read_bytes()


def test_mail_test_names_a_refused_connection(tmp_path: Path) -> None:
    port = str(free_port())  # nothing listens there
    result = run(
        tmp_path,
        "mail",
        "test",
        "--to",
        "clerk@city.example",
        QUIETLINE_SMTP_HOST="127.0.0.1",
        QUIETLINE_SMTP_PORT=port,
        QUIETLINE_SMTP_TLS="none",
    )
    assert result.returncode == 2
    assert f"127.0.0.1:{port} refused the connection" in result.stderr
    assert "Traceback" not in result.stderr


def test_mail_test_names_tls_and_login_failures(
    tmp_path: Path, smtp_servers: Callable[..., SmtpServer]
) -> None:
    smtp = smtp_servers(tls="starttls", users={"quietline": "mail-password-123"})

    untrusted = run(tmp_path, "mail", "test", "--to", "a@city.example", **smtp.environ(ca=False))
    assert untrusted.returncode == 2
    assert "certificate of the mail server" in untrusted.stderr
    assert "could not be verified" in untrusted.stderr
    assert "QUIETLINE_SMTP_CA_FILE" in untrusted.stderr

    wrong = run(
        tmp_path, "mail", "test", "--to", "a@city.example", **smtp.environ(password="wrong-one")
    )
    assert wrong.returncode == 2
    assert "refused the user name or password" in wrong.stderr

    for result in (untrusted, wrong):
        assert "Traceback" not in result.stderr
    assert smtp.messages() == []

    good = run(tmp_path, "mail", "test", "--to", "a@city.example", **smtp.environ())
    assert good.returncode == 0, good.stderr
    assert "accepted the test message" in good.stdout
    [received] = smtp.messages()
    assert received.rcpt_tos == ("a@city.example",) and received.over_tls
    assert received.authenticated_as == "quietline"


def test_mail_test_refuses_a_bad_address(tmp_path: Path) -> None:
    result = run(tmp_path, "mail", "test", "--to", "not an address")
    assert result.returncode == 2
    assert "is not an email address" in result.stderr


def test_staff_notify_sets_the_choice(tmp_path: Path) -> None:
    added = run(
        tmp_path,
        "staff",
        "add",
        "--email",
        "clerk@city.example",
        "--name",
        "Clerk",
        "--role",
        "officer",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    assert added.returncode == 0, added.stderr
    listing = run(tmp_path, "staff", "list", "--json")
    assert json.loads(listing.stdout.splitlines()[-1])[0]["notify"] == "immediate"

    chosen = run(tmp_path, "staff", "notify", "--email", "clerk@city.example", "--mode", "digest")
    assert chosen.returncode == 0, chosen.stderr
    assert "daily summary" in chosen.stdout
    listing = run(tmp_path, "staff", "list", "--json")
    assert json.loads(listing.stdout.splitlines()[-1])[0]["notify"] == "digest"

    unknown = run(tmp_path, "staff", "notify", "--email", "nobody@city.example", "--mode", "digest")
    assert unknown.returncode == 2 and "no staff member" in unknown.stderr
    invalid = run(tmp_path, "staff", "notify", "--email", "clerk@city.example", "--mode", "often")
    assert invalid.returncode == 2 and "invalid choice" in invalid.stderr
    assert run(tmp_path, "audit", "verify").returncode == 0


def test_mail_run_alone_delivers_what_serve_queued(
    tmp_path: Path, smtp_servers: Callable[..., SmtpServer]
) -> None:
    """serve with its worker off, and `quietline mail run` as its own process."""
    smtp = smtp_servers()
    environ = {
        **quietline_environ(tmp_path / "live"),
        **FAST_MAIL_ENVIRON,
        **smtp.environ(),
        "QUIETLINE_MAIL_WORKER": "false",
    }
    server = LiveServer(data_dir=tmp_path / "live", port=free_port(), environ=environ)
    worker: subprocess.Popen[str] | None = None
    try:
        assert server.command("demo").returncode == 0
        server.start()
        with httpx.Client(base_url=server.url, timeout=30) as client:
            answer = client.post("/api/v1/reports", json={"category": "safety", "body": "x" * 40})
            assert answer.status_code == 201
        status = server.command("mail", "status", "--json")
        # Every demo officer of both receiving groups is told of a report (SECURITY.md, "Mail").
        assert json.loads(status.stdout.splitlines()[-1])["notice"] == 3
        assert smtp.messages() == []  # serve's own worker is off

        worker = subprocess.Popen(
            [sys.executable, "-m", "intake.cli", "--data-dir", str(server.data_dir), "mail", "run"],
            env=server.environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        received = smtp.wait_for(3)
        assert sorted(m.rcpt_tos[0] for m in received) == [
            "alternate@example.org",
            "officer2@example.org",
            "officer@example.org",
        ]
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=30)
        assert worker.returncode == 0, err
        assert "Traceback" not in err
        status = server.command("mail", "status", "--json")
        assert json.loads(status.stdout.splitlines()[-1])["notice"] == 0
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
        server.stop()
