"""deploy/compose.yaml run with podman commands, for the deployment test.

One description of the stack: this reads compose.yaml and turns each service's settings into
``podman build`` / ``podman run`` options, in the order its ``depends_on`` gives (waiting for
``service_healthy`` and ``service_completed_successfully`` itself, since podman runs no health
checks without systemd). A setting it does not know is an error, so the file cannot grow a
promise this test silently leaves out. Everything it makes is named after the project, and
``down`` removes it.

Two things differ from a compose engine on a server, on purpose: published ports go to free
loopback ports of this machine (80 and 443 may be taken), and images are tagged with the
project's name so a test never replaces an operator's images.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.support.live import free_port

CONTAINERS_CONF = Path(__file__).resolve().parent / "podman" / "containers.conf"

# What this driver turns into podman options; anything else in a service is refused.
KNOWN = {
    "image",
    "build",
    "user",
    "read_only",
    "tmpfs",
    "cap_drop",
    "security_opt",
    "env_file",
    "environment",
    "volumes",
    "networks",
    "depends_on",
    "restart",
    "command",
    "secrets",
    "healthcheck",
    "ports",
    "network_mode",
}

_VARIABLE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


def podman_environ() -> dict[str, str]:
    """The environment podman needs on these machines (runc, cgroupfs, no rlimits)."""
    return {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}


def podman(
    *args: str, stdin: str | None = None, timeout: float = 600, check: bool = True
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["podman", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=podman_environ(),
        check=False,
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args[:3])}… failed: {done.stderr[-2000:]}")
    return done


@functools.cache
def podman_works() -> str | None:
    """None when podman runs containers here, else why not (the reason to skip)."""
    if shutil.which("podman") is None:
        return "podman is not installed (Debian packages podman and runc; .ci/run installs them)"
    if shutil.which("runc") is None:
        return "runc is not installed (Debian package runc; .ci/run installs it)"
    try:
        info = podman("info", "--format", "{{.Host.OCIRuntime.Name}}", timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as problem:
        return f"podman does not answer: {problem}"
    if info.returncode != 0:
        return f"podman cannot run here: {info.stderr.strip()[:300]}"
    return None


def _interpolate(value: Any, environ: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return _VARIABLE.sub(lambda m: environ.get(m.group(1)) or (m.group(2) or ""), value)
    if isinstance(value, list):
        return [_interpolate(item, environ) for item in value]
    if isinstance(value, dict):
        return {key: _interpolate(item, environ) for key, item in value.items()}
    return value


@dataclass
class Stack:
    """The compose file in ``directory`` (a copy of deploy/ with its secrets filled in)."""

    directory: Path
    project: str
    environ: Mapping[str, str] = field(default_factory=dict)
    # The tag the images get (default: the project); a second stack can reuse the images.
    tag: str = ""
    compose: dict[str, Any] = field(init=False)
    ports: dict[tuple[str, int], int] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.tag = self.tag or self.project
        loaded = yaml.safe_load((self.directory / "compose.yaml").read_text())
        self.compose = _interpolate(loaded, {**os.environ, **self.environ})
        for name, service in self.services.items():
            unknown = set(service) - KNOWN
            if unknown:
                raise ValueError(
                    f"compose.yaml: {name} has settings this test cannot run: {sorted(unknown)}"
                )

    @property
    def services(self) -> dict[str, dict[str, Any]]:
        services: dict[str, dict[str, Any]] = self.compose["services"]
        return services

    def container(self, service: str) -> str:
        return f"{self.project}-{service}"

    def image(self, service: str) -> str:
        name: str = self.services[service]["image"]
        return name.rsplit(":", 1)[0] + f":{self.tag}"

    def _path(self, relative: str) -> str:
        return str((self.directory / relative).resolve())

    # Building

    def build(self, *, keep: bool = False) -> list[str]:
        """Build each image once (services sharing one image build it once), two at a time;
        their tags. With ``keep``, an image that exists already is not built again."""
        specs: dict[str, dict[str, Any]] = {}
        for name, service in self.services.items():
            if "build" in service:
                specs.setdefault(self.image(name), service["build"])
        if keep:
            present = set(podman("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split())
            specs = {tag: spec for tag, spec in specs.items() if tag not in present}

        def build_one(tag: str) -> None:
            spec = specs[tag]
            context = self.directory / spec.get("context", ".")
            args = [f"--build-arg={key}={value}" for key, value in spec.get("args", {}).items()]
            podman(
                "build",
                "--quiet",
                "--force-rm",
                "--layers=false",
                *args,
                "--file",
                str(context / spec.get("dockerfile", "Containerfile")),
                "--tag",
                tag,
                str(context),
                timeout=1200,
            )

        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(build_one, specs))
        return list(specs)

    # Running

    def _network(self, name: str) -> str:
        return f"{self.project}_{name}"

    def _volume(self, name: str) -> str:
        return f"{self.project}_{name}"

    def _create_networks_and_volumes(self) -> None:
        existing = set(podman("network", "ls", "--format", "{{.Name}}").stdout.split())
        for name, spec in (self.compose.get("networks") or {}).items():
            if self._network(name) in existing:
                continue
            internal = ["--internal"] if (spec or {}).get("internal") else []
            podman("network", "create", *internal, self._network(name))
        volumes = set(podman("volume", "ls", "--format", "{{.Name}}").stdout.split())
        for name in self.compose.get("volumes") or {}:
            if self._volume(name) not in volumes:
                podman("volume", "create", self._volume(name))

    def options(self, name: str) -> list[str]:
        """The ``podman run`` options compose.yaml gives service ``name``."""
        service = self.services[name]
        options: list[str] = []
        if "user" in service:
            options += ["--user", str(service["user"])]
        if service.get("read_only"):
            options.append("--read-only")
        for mount in service.get("tmpfs", []):
            options += ["--tmpfs", mount]
        for capability in service.get("cap_drop", []):
            options += ["--cap-drop", capability]
        for option in service.get("security_opt", []):
            options += [
                "--security-opt",
                option.replace("no-new-privileges:true", "no-new-privileges"),
            ]
        env_files = service.get("env_file", [])
        for env_file in [env_files] if isinstance(env_files, str) else env_files:
            options += ["--env-file", self._path(env_file)]
        for key, value in (service.get("environment") or {}).items():
            options += ["--env", f"{key}={value}"]
        for volume in service.get("volumes", []):
            source, target, *mode = volume.split(":")
            if source.startswith((".", "/")):
                source = self._path(source)
            else:
                source = self._volume(source)
            options += ["--volume", ":".join([source, target, *mode])]
        for secret in service.get("secrets", []):
            path = self._path(self.compose["secrets"][secret]["file"])
            options += ["--volume", f"{path}:/run/secrets/{secret}:ro"]
        mode = service.get("network_mode")
        if mode is not None:
            if not mode.startswith("service:"):
                raise ValueError(f"{name}: network_mode {mode} is not supported here")
            options += ["--network", f"container:{self.container(mode.split(':', 1)[1])}"]
        else:
            for network in service.get("networks", []):
                options += ["--network", self._network(network)]
            options += ["--network-alias", name]
        for published in service.get("ports", []):
            _host, inside = str(published).rsplit(":", 1)
            port = self.ports.setdefault((name, int(inside)), free_port())
            options += ["--publish", f"127.0.0.1:{port}:{inside}"]
        return options

    def command(self, name: str) -> list[str]:
        command = self.services[name].get("command", [])
        return command.split() if isinstance(command, str) else [str(part) for part in command]

    def _dependencies(self, name: str) -> dict[str, str]:
        depends = self.services[name].get("depends_on", {})
        if isinstance(depends, list):
            return {dependency: "service_started" for dependency in depends}
        return {key: value.get("condition", "service_started") for key, value in depends.items()}

    def order(self, names: Iterable[str] | None = None) -> list[str]:
        ordered: list[str] = []

        def visit(name: str) -> None:
            if name in ordered:
                return
            for dependency in self._dependencies(name):
                visit(dependency)
            ordered.append(name)

        for name in names or self.services:
            visit(name)
        return ordered

    def _state(self, name: str) -> str:
        done = podman("inspect", "--format", "{{.State.Status}}", self.container(name), check=False)
        return done.stdout.strip() if done.returncode == 0 else "absent"

    def up(self, names: Iterable[str] | None = None) -> None:
        """Start ``names`` (default: all) and what they depend on, as compose would."""
        self._create_networks_and_volumes()
        for name in self.order(names):
            for dependency, condition in self._dependencies(name).items():
                self.wait_for(dependency, condition)
            state = self._state(name)
            if state == "running" or (state == "exited" and self._one_shot(name)):
                continue
            if state != "absent":
                podman("start", self.container(name))
                continue
            restart = self.services[name].get("restart", "no")
            policy = [] if restart == "no" else ["--restart", restart]
            podman(
                "run",
                "--detach",
                "--name",
                self.container(name),
                *policy,
                *self.options(name),
                self.image(name),
                *self.command(name),
            )

    def _one_shot(self, name: str) -> bool:
        return any(
            condition == "service_completed_successfully"
            for other in self.services
            for dependency, condition in self._dependencies(other).items()
            if dependency == name
        )

    def wait_for(self, name: str, condition: str, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition == "service_completed_successfully":
                waited = podman("wait", self.container(name), timeout=timeout)
                if waited.stdout.strip() != "0":
                    raise RuntimeError(
                        f"{name} exited with {waited.stdout.strip()}: {self.logs(name)[-2000:]}"
                    )
                return
            if self._state(name) != "running":
                raise RuntimeError(f"{name} is not running: {self.logs(name)[-2000:]}")
            if condition == "service_started" or self.healthy(name):
                return
            time.sleep(0.5)
        raise RuntimeError(f"{name} did not become {condition} in {timeout} s")

    def healthy(self, name: str) -> bool:
        test = self.services[name].get("healthcheck", {}).get("test")
        if not test:
            return True
        kind, *command = test
        if kind == "CMD-SHELL":
            command = ["sh", "-c", " ".join(command)]
        return podman("exec", self.container(name), *command, check=False).returncode == 0

    def run(
        self,
        name: str,
        *command: str,
        stdin: str | None = None,
        timeout: float = 300,
        volumes: Iterable[str] = (),
    ) -> subprocess.CompletedProcess[str]:
        """``compose run --rm -T NAME COMMAND``: a one-off container with the service's settings
        (and ``volumes``, extra ``SOURCE:TARGET[:MODE]`` mounts)."""
        extra = [option for volume in volumes for option in ("--volume", volume)]
        dependencies = self._dependencies(name)
        if dependencies:  # as compose does: start what it depends on, and wait for it
            self.up(dependencies)
            for dependency, condition in dependencies.items():
                self.wait_for(dependency, condition)
        return podman(
            "run",
            "--rm",
            "--interactive",
            *self.options(name),
            *extra,
            self.image(name),
            *command,
            stdin=stdin,
            timeout=timeout,
            check=False,
        )

    def exec(
        self, name: str, *command: str, stdin: str | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        interactive = ["--interactive"] if stdin is not None else []
        return podman(
            "exec",
            *interactive,
            self.container(name),
            *command,
            stdin=stdin,
            timeout=timeout,
            check=False,
        )

    def stop(self, name: str) -> None:
        podman("stop", "--time", "10", self.container(name))

    def start(self, name: str) -> None:
        podman("start", self.container(name))

    def logs(self, name: str) -> str:
        done = podman("logs", self.container(name), check=False)
        return done.stdout + done.stderr

    def down(self, *, images: bool = True) -> None:
        """Remove every container, network and volume of the project (and its images)."""
        for name in reversed(self.order()):
            podman("rm", "--force", "--volumes", "--time", "5", self.container(name), check=False)
        for name in self.compose.get("networks") or {}:
            podman("network", "rm", "--force", self._network(name), check=False)
        for name in self.compose.get("volumes") or {}:
            podman("volume", "rm", "--force", self._volume(name), check=False)
        if images:
            tags = {
                self.image(name) for name, service in self.services.items() if "build" in service
            }
            for tag in tags:
                podman("rmi", "--force", tag, check=False)
