"""The inputs of the deployment test's images: a Debian base and a wheelhouse, cached.

No registry serves images here, so the base every image starts from (``debian:bookworm-slim``
in production) is made with ``debootstrap`` from Debian's packages, and the app is installed
from a wheelhouse of wheels built on this machine from the repository. Both are kept under a
cache directory (``QUIETLINE_DEPLOY_CACHE``, default ``~/.cache/quietline-deploy``) keyed by
what they are made from, so a second run only imports the base and builds Quietline's own
wheel.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.podman_stack import podman

REPOSITORY = Path(__file__).resolve().parents[2]
SUITE = "bookworm"
# For working on the deployment tests: QUIETLINE_DEPLOY_KEEP_IMAGES=1 keeps the images (tagged
# "dev") between runs and builds only missing ones. Never in CI: a kept image hides a broken
# build.
KEEP = os.environ.get("QUIETLINE_DEPLOY_KEEP_IMAGES") == "1"
MIRROR = os.environ.get("QUIETLINE_DEBIAN_MIRROR", "http://deb.debian.org/debian")


def run_tag() -> str:
    """A tag for this run's images, so runs and an operator's images never meet."""
    return f"qltest{os.getpid()}"


def cache_dir() -> Path:
    configured = os.environ.get("QUIETLINE_DEPLOY_CACHE")
    path = Path(configured) if configured else Path.home() / ".cache" / "quietline-deploy"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _key(*parts: str | bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


@functools.cache
def debootstrap_missing() -> str | None:
    """None when a base can be made (or is cached), else why not."""
    if shutil.which("debootstrap") is None:
        return "debootstrap is not installed (Debian package debootstrap; .ci/run installs it)"
    if os.geteuid() != 0:
        return "debootstrap and rootful podman need root"
    return None


def base_tarball() -> Path:
    """A minimal Debian bookworm root filesystem (debootstrap's minbase, like the official
    slim image: no package lists, no downloaded packages), made once per mirror."""
    tarball = cache_dir() / f"debian-{SUITE}-minbase-{_key(SUITE, 'minbase', MIRROR)}.tar"
    if tarball.exists():
        return tarball
    with tempfile.TemporaryDirectory(dir=cache_dir()) as scratch:
        root = Path(scratch) / "root"
        subprocess.run(
            ["nice", "-n", "10", "debootstrap", "--variant=minbase", SUITE, str(root), MIRROR],
            check=True,
            capture_output=True,
            timeout=1200,
        )
        for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for path in (root / leftover).glob("*"):
                if path.is_file():
                    path.unlink()
        partial = tarball.with_suffix(".partial")
        subprocess.run(["tar", "-C", str(root), "-cf", str(partial), "."], check=True)
        partial.rename(tarball)
    return tarball


def import_base(tag: str) -> str:
    """The base imported into podman as ``localhost/quietline-base:TAG``; its name."""
    name = f"localhost/quietline-base:{tag}"
    with base_tarball().open("rb") as tar:
        subprocess.run(
            ["podman", "import", "--quiet", "-", name],
            stdin=tar,
            check=True,
            capture_output=True,
            timeout=600,
            env={**os.environ, **_podman_env()},
        )
    return name


def _podman_env() -> dict[str, str]:
    from tests.support.podman_stack import CONTAINERS_CONF

    return {"CONTAINERS_CONF": str(CONTAINERS_CONF)}


def remove_base(name: str) -> None:
    podman("rmi", "--force", name, check=False)


def _pip(*args: str) -> None:
    subprocess.run(
        ["nice", "-n", "10", sys.executable, "-m", "pip", "--quiet", *args],
        check=True,
        capture_output=True,
        timeout=1200,
    )


def wheelhouse(into: Path) -> list[str]:
    """Quietline's wheel, built now from the repository, and its dependencies' wheels, cached
    by pyproject.toml and this Python; copied into ``into``. The file names."""
    into.mkdir(parents=True, exist_ok=True)
    key = _key((REPOSITORY / "pyproject.toml").read_bytes(), sys.version, sys.platform)
    dependencies = cache_dir() / f"wheels-{key}"
    if not dependencies.exists():
        partial = dependencies.with_name(dependencies.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        _pip("wheel", "--wheel-dir", str(partial), str(REPOSITORY))
        for own in partial.glob("quietline-*.whl"):
            own.unlink()
        partial.rename(dependencies)
    for wheel in dependencies.glob("*.whl"):
        shutil.copy(wheel, into)
    with tempfile.TemporaryDirectory() as scratch:
        # Built from a copy, so no build/ or egg-info lands in the repository.
        source = Path(scratch) / "source"
        shutil.copytree(
            REPOSITORY,
            source,
            ignore=shutil.ignore_patterns(
                ".venv",
                ".git",
                "node_modules",
                "__pycache__",
                "*.egg-info",
                "build",
                "var",
                "test-artifacts",
                ".mypy_cache",
                ".ruff_cache",
                ".pytest_cache",
                "wheelhouse",
            ),
        )
        _pip("wheel", "--no-deps", "--wheel-dir", str(into), str(source))
    return sorted(path.name for path in into.glob("*.whl"))


@dataclass
class Steps:
    """Prints each step and its time (``make deploy-test`` shows them)."""

    started: float = field(default_factory=time.monotonic)
    times: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def __call__(self, what: str) -> Iterator[None]:
        began = time.monotonic()
        print(f"\n[deploy] {what} …", flush=True)
        try:
            yield
        finally:
            took = time.monotonic() - began
            self.times[what] = took
            print(
                f"[deploy] {what}: {took:.1f} s (total {time.monotonic() - self.started:.1f} s)",
                flush=True,
            )
