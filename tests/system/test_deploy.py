"""deploy/: each configuration checked by the real tool that will read it, where Debian packages it.

nginx, tor and systemd-analyze are installed by .ci/run; where one is missing the test is
skipped and says which. Here the Containerfile and compose.yaml are checked structurally
(parsed, and their promises asserted); test_deploy_stack.py builds and runs them with podman.
"""

from __future__ import annotations

import datetime
import http.server
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.live import free_port

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _need(tool: str) -> str:
    path = shutil.which(tool) or (
        f"/usr/sbin/{tool}" if Path(f"/usr/sbin/{tool}").exists() else None
    )
    if path is None:
        pytest.skip(f"{tool} is not installed here (Debian package; .ci/run installs it in CI)")
    return path


def _test_certificate(directory: Path) -> None:
    """A self-signed certificate for localhost, only for the configuration test."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "fullchain.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (directory / "privkey.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _nginx_prefix(tmp_path: Path, config: str, upstream_port: int) -> Path:
    """deploy/nginx/nginx.conf in a scratch prefix, with a test certificate and a loopback
    upstream (the compose service names app1/app2 only resolve inside compose)."""
    prefix = tmp_path / "nginx"
    _test_certificate(prefix / "tls")
    (prefix / "nginx.conf").write_text(config)
    shutil.copy(DEPLOY / "nginx" / "quietline-uploads.conf", prefix)
    (prefix / "upstream.conf").write_text(
        f"upstream quietline {{ server 127.0.0.1:{upstream_port}; keepalive 16; }}\n"
    )
    return prefix


def _nginx_command(prefix: Path, *args: str, foreground: bool = False) -> list[str]:
    directives = f"pid {prefix}/nginx.pid;" + (" daemon off;" if foreground else "")
    return [
        _need("nginx"),
        "-p",
        f"{prefix}/",
        "-c",
        str(prefix / "nginx.conf"),
        "-e",
        "stderr",
        "-g",
        directives,
        *args,
    ]


def _nginx(prefix: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _nginx_command(prefix, *args), capture_output=True, text=True, timeout=30, check=False
    )


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"nginx exited: {process.stderr.read() if process.stderr else ''}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("nginx did not start listening")


def test_nginx_accepts_the_configuration(tmp_path: Path) -> None:
    _need("nginx")
    prefix = _nginx_prefix(tmp_path, (DEPLOY / "nginx" / "nginx.conf").read_text(), 8000)
    checked = _nginx(prefix, "-t")
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr
    upstream = (DEPLOY / "nginx" / "upstream.conf").read_text()
    assert "server app1:8000" in upstream and "server app2:8000" in upstream


class _Recorder(http.server.BaseHTTPRequestHandler):
    """An upstream that records the headers it was sent."""

    seen: list[dict[str, str]] = []

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("content-length", "0"))
        self.rfile.read(length)
        self.seen.append({k.lower(): v for k, v in self.headers.items()})
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[int, list[dict[str, str]]]]:
    _Recorder.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], _Recorder.seen
    finally:
        server.shutdown()
        server.server_close()


def _https(port: int, request: bytes) -> bytes:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(request)
            reply = b""
            while chunk := tls.recv(65536):
                reply += chunk
    return reply


def test_nginx_passes_no_client_address_and_keeps_no_log(
    tmp_path: Path, recorder: tuple[int, list[dict[str, str]]]
) -> None:
    """The real configuration, run by nginx on loopback ports instead of 80/443/8081."""
    _need("nginx")
    upstream_port, seen = recorder
    http_port, https_port, onion_port = free_port(), free_port(), free_port()
    config = _local_listeners(
        (DEPLOY / "nginx" / "nginx.conf").read_text(), (http_port, https_port, onion_port)
    )
    prefix = _nginx_prefix(tmp_path, config, upstream_port)
    process = subprocess.Popen(
        _nginx_command(prefix, foreground=True),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for_port(https_port, process)
        reply = _https(
            https_port,
            b"POST /api/v1/reports/status HTTP/1.1\r\nHost: quietline.example\r\n"
            b"X-Forwarded-For: 203.0.113.9\r\nX-Real-IP: 203.0.113.9\r\n"
            b"Forwarded: for=203.0.113.9\r\nUser-Agent: probe\r\n"
            b"Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
        )
        assert reply.startswith(b"HTTP/1.1 200"), reply[:300]
        head = reply.split(b"\r\n\r\n")[0].lower()
        assert b"strict-transport-security: max-age=63072000" in head
        # Open-source nginx always names itself; server_tokens off keeps the version out.
        assert b"nginx/" not in head
        sent = seen[-1]
        for header in ("x-forwarded-for", "x-real-ip", "forwarded", "via", "x-forwarded-proto"):
            assert header not in sent, header
        assert "203.0.113.9" not in repr(sent) and "127.0.0.1" not in repr(sent)
        assert sent["host"] == "quietline.example"

        # The staff address: on staff paths of the TLS server only, nginx's own view of the
        # client (the app checks it against QUIETLINE_STAFF_NETWORKS); a client's forged
        # header never passes, on any path or listener.
        forged = b"X-Quietline-Staff-Address: 10.20.30.40\r\n"
        staff = _https(
            https_port,
            b"POST /api/v1/staff/login HTTP/1.1\r\nHost: localhost\r\n"
            + forged
            + b"Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
        )
        assert staff.startswith(b"HTTP/1.1 200"), staff[:200]
        assert seen[-1]["x-quietline-staff-address"] == "127.0.0.1"
        _https(
            https_port,
            b"GET /report HTTP/1.1\r\nHost: localhost\r\n" + forged + b"Connection: close\r\n\r\n",
        )
        assert "x-quietline-staff-address" not in seen[-1]
        with socket.create_connection(("127.0.0.1", onion_port), timeout=10) as onion:
            onion.sendall(
                b"GET /staff/login HTTP/1.1\r\nHost: x.onion\r\n"
                + forged
                + b"Connection: close\r\n\r\n"
            )
            assert onion.recv(4096).startswith(b"HTTP/1.1 200")
        assert "x-quietline-staff-address" not in seen[-1]

        too_big = _https(
            https_port,
            b"POST /api/v1/reports/status HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/json\r\nContent-Length: 300000\r\n"
            b"Connection: close\r\n\r\n",
        )
        assert too_big.startswith(b"HTTP/1.1 413"), too_big[:200]
        # Paths that take attachments accept large bodies and stream them through.
        upload = b"x" * 1_000_000
        streamed = _https(
            https_port,
            b"POST /api/v1/reports HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: multipart/form-data; boundary=b\r\n"
            + f"Content-Length: {len(upload)}\r\n".encode()
            + b"Connection: close\r\n\r\n"
            + upload,
        )
        assert streamed.startswith(b"HTTP/1.1 200"), streamed[:200]

        with socket.create_connection(("127.0.0.1", http_port), timeout=10) as plain:
            plain.sendall(b"GET /report HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            redirect = plain.recv(4096)
        assert redirect.startswith(b"HTTP/1.1 301")
        assert b"location: https://localhost/report" in redirect.lower()

        with socket.create_connection(("127.0.0.1", onion_port), timeout=10) as onion:
            onion.sendall(b"GET /form HTTP/1.1\r\nHost: x.onion\r\nConnection: close\r\n\r\n")
            assert onion.recv(4096).startswith(b"HTTP/1.1 200")
    finally:
        process.terminate()
        process.wait(timeout=20)
    # No access log anywhere in the prefix, and nothing written holds the address.
    for path in prefix.rglob("*"):
        if path.is_file():
            assert b"203.0.113.9" not in path.read_bytes(), path
            assert "access" not in path.name, path


def _local_listeners(config: str, ports: tuple[int, int, int]) -> str:
    """The configuration with its listeners on loopback ports instead of 80/443/8081."""
    http_port, https_port, onion_port = ports
    config = (
        config.replace("listen 80 default_server;", f"listen 127.0.0.1:{http_port};")
        .replace("listen 443 ssl default_server;", f"listen 127.0.0.1:{https_port} ssl;")
        .replace("listen 127.0.0.1:8081;", f"listen 127.0.0.1:{onion_port};")
    )
    return "\n".join(line for line in config.splitlines() if "listen [::]" not in line)


def test_nginx_says_in_both_languages_when_no_app_process_answers(tmp_path: Path) -> None:
    """While every app process is starting or restarting, a reporter gets a 503 that says so in
    English and French and when to try again, not nginx's bare "502 Bad Gateway"."""
    _need("nginx")
    ports = (free_port(), free_port(), free_port())
    config = _local_listeners((DEPLOY / "nginx" / "nginx.conf").read_text(), ports)
    prefix = _nginx_prefix(tmp_path, config, free_port())  # nothing listens there
    process = subprocess.Popen(
        _nginx_command(prefix, foreground=True),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for_port(ports[1], process)
        answers = [
            _https(
                ports[1], b"GET /report HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
            )
        ]
        with socket.create_connection(("127.0.0.1", ports[2]), timeout=10) as onion:
            onion.sendall(b"GET /form HTTP/1.1\r\nHost: x.onion\r\nConnection: close\r\n\r\n")
            reply = b""
            while chunk := onion.recv(65536):
                reply += chunk
            answers.append(reply)
    finally:
        process.terminate()
        process.wait(timeout=20)
    for reply in answers:
        head, _, body = reply.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 503"), head
        assert b"retry-after: 60" in head.lower()
        assert b"content-type: text/html; charset=utf-8" in head.lower()
        text = body.decode()
        assert "The reporting service is not answering right now" in text
        assert "Le service de signalement ne r&eacute;pond pas pour le moment" in text
        assert "Bad Gateway" not in text and "nginx" not in text
    assert b"strict-transport-security: max-age=63072000" in answers[0].lower()


def test_tor_accepts_the_torrc(tmp_path: Path) -> None:
    tor = _need("tor")
    # Tor insists its data directory belongs to the user running it: point it at a scratch one.
    data = tmp_path / "tor"
    data.mkdir(mode=0o700)
    torrc = (DEPLOY / "tor" / "torrc").read_text()
    assert "HiddenServicePort 80 127.0.0.1:8081" in torrc and "SocksPort 0" in torrc
    (tmp_path / "torrc").write_text(torrc.replace("/var/lib/tor", str(data)))
    checked = subprocess.run(
        [tor, "--verify-config", "-f", str(tmp_path / "torrc")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Configuration was valid" in checked.stdout


@pytest.fixture
def unit_root(tmp_path: Path) -> Path:
    """A scratch root with systemd's own units, the unit, and the paths it names."""
    analyze = _need("systemd-analyze")
    system_units = Path("/usr/lib/systemd/system")
    if not (system_units / "sysinit.target").exists():
        pytest.skip(f"{analyze} is here but systemd's units are not (install the systemd package)")
    root = tmp_path / "root"
    shutil.copytree(system_units, root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    shutil.copy(DEPLOY / "systemd" / "quietline.service", root / "etc/systemd/system")
    (root / "etc/quietline").mkdir(parents=True)
    (root / "etc/quietline/quietline.env").write_text("")
    program = root / "opt/quietline/venv/bin/quietline"
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    return root


def test_systemd_unit_verifies_and_is_hardened(unit_root: Path) -> None:
    analyze = _need("systemd-analyze")
    verified = subprocess.run(
        [
            analyze,
            "verify",
            "--man=no",
            f"--root={unit_root}",
            "/etc/systemd/system/quietline.service",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    unit = (DEPLOY / "systemd" / "quietline.service").read_text()
    for setting in (
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "PrivateTmp=yes",
        "ProtectHome=yes",
        "MemoryDenyWriteExecute=yes",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "SystemCallFilter=@system-service",
        "CapabilityBoundingSet=\n",
    ):
        assert setting in unit, setting
    # systemd's own exposure score, 0 (locked down) to 10 (unprotected).
    security = subprocess.run(
        [
            analyze,
            "security",
            "--offline=yes",
            f"--root={unit_root}",
            "--no-pager",
            "quietline.service",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    line = next(
        (row for row in security.stdout.splitlines() if "Overall exposure level" in row), ""
    )
    assert line, security.stdout + security.stderr
    exposure = float(line.split(":")[1].split()[0])
    assert exposure <= 2.0, line


def test_container_image_runs_unprivileged_with_data_on_a_volume() -> None:
    containerfile = (DEPLOY / "Containerfile").read_text()
    final_stage = containerfile.rsplit("\nFROM ", 1)[1]
    assert "USER 10001:10001" in final_stage
    assert 'VOLUME ["/data", "/backups"]' in final_stage
    assert "QUIETLINE_DATA_DIR=/data/quietline" in final_stage
    assert "-m 0700 /data /backups" in final_stage


def test_compose_file_describes_the_promised_deployment() -> None:
    """Parsed and checked here; `docker compose config` cannot run without a container engine."""
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services: dict[str, Any] = compose["services"]
    assert {"db", "init", "app1", "app2", "proxy", "tor"} <= set(services)
    for name in ("app1", "app2", "init"):
        app = services[name]
        assert app["read_only"] is True and app["user"] == "10001:10001", name
        assert app["cap_drop"] == ["ALL"] and "no-new-privileges:true" in app["security_opt"]
        assert "quietline-data:/data" in app["volumes"], name
        assert "ports" not in app, f"{name} must only be reached through the proxy"
    for name in ("app1", "app2"):
        assert services[name]["depends_on"]["init"]["condition"] == (
            "service_completed_successfully"
        )
    assert services["init"]["command"] == ["init"]
    assert "ports" not in services["db"] and services["db"]["read_only"] is True
    assert "log_connections=off" in services["db"]["command"]
    assert compose["networks"]["backend"]["internal"] is True
    proxy = services["proxy"]
    assert proxy["read_only"] is True and "443:443" in proxy["ports"]
    mounts = {volume.split(":")[0] for volume in proxy["volumes"]}
    for mount in mounts:
        if mount.startswith("./") and not mount.endswith("tls"):
            assert (DEPLOY / mount).is_file(), mount
    tor = services["tor"]
    assert tor["network_mode"] == "service:proxy" and tor["read_only"] is True
    assert (DEPLOY / tor["build"]["context"] / tor["build"]["dockerfile"]).is_file()
    assert {"quietline-data", "pg-data", "tor-data"} <= set(compose["volumes"])
    # Every image is built here from Debian's packages, on the base the operator names.
    for name in ("db", "app1", "proxy", "tor"):
        build = services[name]["build"]
        assert build["args"]["BASE"].endswith(":-docker.io/library/debian:bookworm-slim}"), name
        containerfile = (DEPLOY / build["context"] / build["dockerfile"]).read_text()
        assert "ARG BASE=docker.io/library/debian:bookworm-slim" in containerfile, name
        assert "FROM ${BASE}" in containerfile and "apt-get install" in containerfile, name
    example = (DEPLOY / "quietline.env.example").read_text()
    for setting in ("QUIETLINE_SECRET_KEY=", "QUIETLINE_TOKEN_PEPPER=", "QUIETLINE_DATABASE_URL="):
        assert setting in example
