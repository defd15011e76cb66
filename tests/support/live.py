"""Helpers for tests that run a real server process or read what the service wrote."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Protocol

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LiveServer:
    """``quietline serve`` in a child process, its output captured to files."""

    def __init__(self, *, data_dir: Path, port: int, environ: dict[str, str]) -> None:
        self.data_dir = data_dir
        self.port = port
        self.environ = {**os.environ, **environ}
        self.url = f"http://127.0.0.1:{port}"
        self.log_dir = data_dir.parent / f"server-output-{port}"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen[bytes] | None = None
        self.runs = 0
        # The key ceremony's shares (key id -> shares), once demo() or ceremony() ran.
        self.shares: dict[str, list[str]] = {}

    def command(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        """Run a ``quietline`` CLI command against this server's data directory."""
        return subprocess.run(
            [sys.executable, "-m", "intake.cli", "--data-dir", str(self.data_dir), *args],
            env=self.environ,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def demo(self) -> subprocess.CompletedProcess[str]:
        """``quietline demo``, keeping the shares it prints once (to approve later changes)."""
        done = self.command("demo")
        if done.returncode == 0:
            self.shares = shares_printed(done.stdout)
        return done

    def pin_root_of(self, other: LiveServer) -> None:
        """Pin the root key ``other`` pinned (one office, one root: a second process on the same
        database, with a data directory of its own, must act on the same directory)."""
        pinned = json.loads((other.data_dir / "server-secrets.json").read_text())
        self.environ["QUIETLINE_ROOT_PUBLIC_KEY"] = pinned["root_public_key"]

    def ceremony(self) -> dict[str, list[str]]:
        """``quietline keys ceremony --install --json``; the shares, kept for approvals too."""
        self.shares = install_ceremony(self.command)
        return self.shares

    def add_staff(
        self, email: str, password: str, *, role: str = "officer", group: str = "solicitor"
    ) -> str:
        """Add a staff member with the CLI; returns their TOTP secret."""
        added = subprocess.run(
            [
                sys.executable,
                "-m",
                "intake.cli",
                "--data-dir",
                str(self.data_dir),
                "staff",
                "add",
                "--email",
                email,
                "--name",
                email.split("@")[0],
                "--role",
                role,
                "--group",
                group,
                "--password-stdin",
                "--json",
            ],
            input=password + "\n",
            env=self.environ,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if added.returncode != 0:
            raise RuntimeError(f"staff add failed: {added.stderr}")
        secret: str = json.loads(added.stdout.strip().splitlines()[-1])["totp_secret"]
        if self.shares:
            approve_all(self.command, self.shares)
        return secret

    def start(self, *extra: str) -> LiveServer:
        self.runs += 1
        out = open(self.log_dir / f"stdout-{self.runs}", "wb")  # noqa: SIM115
        err = open(self.log_dir / f"stderr-{self.runs}", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "intake.cli",
                "--data-dir",
                str(self.data_dir),
                "serve",
                "--port",
                str(self.port),
                *extra,
            ],
            env=self.environ,
            stdout=out,
            stderr=err,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early: {self.output().decode(errors='replace')}")
            try:
                httpx.get(self.url + "/", timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("server did not start within 60 s")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, as in a crash or power cut of the process."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> bytes:
        """Everything the server processes printed so far."""
        return b"".join(path.read_bytes() for path in sorted(self.log_dir.iterdir()))


class Command(Protocol):
    def __call__(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]: ...


def install_ceremony(command: Command) -> dict[str, list[str]]:
    """Run the key ceremony on this instance (``keys ceremony --install --json``); its shares,
    by key (``"root"`` and each group)."""
    done = command("keys", "ceremony", "--install", "--json")
    if done.returncode != 0:
        raise RuntimeError(f"keys ceremony failed: {done.stderr}")
    shares: dict[str, list[str]] = json.loads(done.stdout)["shares"]
    return shares


def approve_all(command: Command, shares: dict[str, list[str]]) -> None:
    """Sign every pending directory change as the root, with two of its shares."""
    done = command(
        "directory", "approve", "--all", "--root-shares-stdin", stdin="\n".join(shares["root"][:2])
    )
    if done.returncode != 0:
        raise RuntimeError(f"directory approve failed: {done.stderr}")


def shares_printed(output: str) -> dict[str, list[str]]:
    """The shares ``quietline demo`` prints, by key (``"root"`` and each group)."""
    shares: dict[str, list[str]] = {}
    key = ""
    for line in output.splitlines():
        if line.startswith("the office root key"):
            key = "root"
        elif line.startswith("the recovery key of the group "):
            key = line.removeprefix("the recovery key of the group ").split(":")[0]
        elif line.strip().startswith("share for ") and key:
            shares.setdefault(key, []).append(line.split(": ", 1)[1].strip())
    return shares


def run_cli(
    environ: dict[str, str], *args: str, stdin: str = "", timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``quietline ARGS`` in a child process with ``environ`` added to this one's."""
    return subprocess.run(
        [sys.executable, "-m", "intake.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **environ},
    )


def bytes_written_under(directory: Path) -> bytes:
    """Every byte of every file under ``directory`` (database, WAL, secrets, mail...)."""
    return b"".join(path.read_bytes() for path in sorted(directory.rglob("*")) if path.is_file())
