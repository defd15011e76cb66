"""What the deployment tests share within one run: the Debian base image, the wheelhouse and the
printed step times (each made once, removed at the end)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import deploy_build


@pytest.fixture(scope="session")
def deploy_steps() -> Iterator[deploy_build.Steps]:
    steps = deploy_build.Steps()
    yield steps
    if steps.times:
        times = {what: round(took, 1) for what, took in steps.times.items()}
        print("\n[deploy] times: " + json.dumps(times, indent=1))


@pytest.fixture(scope="session")
def debian_base(deploy_steps: deploy_build.Steps) -> Iterator[str]:
    """The Debian base (debootstrap, cached) imported into podman; its image name."""
    with deploy_steps("the Debian base (debootstrap, cached) imported into podman"):
        base = deploy_build.import_base("dev" if deploy_build.KEEP else deploy_build.run_tag())
    yield base
    if not deploy_build.KEEP:
        deploy_build.remove_base(base)


@pytest.fixture(scope="session")
def deploy_wheelhouse(
    tmp_path_factory: pytest.TempPathFactory, deploy_steps: deploy_build.Steps
) -> Path:
    """Quietline's wheel and its dependencies' (cached) in one folder."""
    with deploy_steps("the wheelhouse (dependencies cached, Quietline's wheel built now)"):
        folder = tmp_path_factory.mktemp("wheelhouse")
        wheels = deploy_build.wheelhouse(folder)
        assert any(name.startswith("quietline-") for name in wheels), wheels
    return folder
