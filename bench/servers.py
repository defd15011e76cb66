"""Server processes for the benchmarks: a real ``quietline serve``, or the baseline app."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench import procstat


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """A child process serving HTTP on loopback; its output goes to files under ``log_dir``."""

    def __init__(self, name: str, command: list[str], *, environ: dict[str, str], log_dir: Path):
        self.name = name
        self.port = free_port()
        self.command = [*command, "--port", str(self.port)]
        self.environ = {**os.environ, **environ}
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_dir = log_dir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> Server:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        out = open(self.log_dir / f"{self.name}.out", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            self.command, env=self.environ, stdout=out, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early; see {self.log_dir}/{self.name}.out")
            try:
                httpx.get(self.url + "/", timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start within 60 s")

    def cpu_seconds(self) -> float:
        return procstat.cpu_seconds(self.pid)

    def peak_rss_mib(self) -> float:
        return procstat.peak_rss_mib(self.pid)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def quietline_server(name: str, data_dir: Path, environ: dict[str, str], log_dir: Path) -> Server:
    command = [sys.executable, "-m", "intake.cli", "--data-dir", str(data_dir), "serve"]
    return Server(name, command, environ=environ, log_dir=log_dir)


def baseline_server(db_path: Path, log_dir: Path) -> Server:
    command = [sys.executable, "-m", "bench.baseline", "--db", str(db_path)]
    return Server("baseline", command, environ={}, log_dir=log_dir)
