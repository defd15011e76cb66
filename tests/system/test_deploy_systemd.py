"""deploy/systemd/quietline.service started for real: a Debian container with systemd as PID 1
(podman ``--systemd=always``), set up with the guide's own commands (deploy/README.md, the block
marked ``systemd``), then the service started, its sandbox checked from the kernel's side
(``/proc/PID/status``) and scored by ``systemd-analyze security``, a reporter's round trip
made, and the service restarted without losing the report.

``make deploy-test`` runs it with tests/system/test_deploy_stack.py; it is skipped with the
reason where podman, runc or debootstrap is missing.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import deploy_build
from tests.support.operator_guide import guide_block
from tests.support.podman_stack import podman, podman_works

REPOSITORY = Path(__file__).resolve().parents[2]
REQUEST_INSIDE = REPOSITORY / "tests" / "support" / "podman" / "request_inside.py"
QUIETLINE = "/opt/quietline/venv/bin/quietline"
AS_SERVICE = (
    "set -a && . /etc/quietline/quietline.env && set +a && "
    f"runuser -u quietline -- {QUIETLINE} --data-dir /var/lib/quietline"
)

pytestmark = pytest.mark.skipif(
    bool(podman_works() or deploy_build.debootstrap_missing()),
    reason=str(podman_works() or deploy_build.debootstrap_missing()),
)


def _sh(container: str, script: str, stdin: str | None = None) -> str:
    interactive = ["--interactive"] if stdin is not None else []
    done = podman(
        "exec",
        *interactive,
        "--workdir",
        "/opt/quietline",
        container,
        "bash",
        "-euo",
        "pipefail",
        "-c",
        script,
        stdin=stdin,
        check=False,
    )
    assert done.returncode == 0, f"{script[:200]}: {done.stdout[-1500:]}{done.stderr[-1500:]}"
    return done.stdout


def _requests(container: str, requests: list[dict[str, object]]) -> list[dict[str, object]]:
    answers: list[dict[str, object]] = json.loads(
        _sh(container, f"python3 -c {_quote(REQUEST_INSIDE.read_text())}", json.dumps(requests))
    )
    return answers


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def _wait_until_serving(container: str) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        probe = podman(
            "exec",
            container,
            "python3",
            "-c",
            "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/v1/form')",
            check=False,
        )
        if probe.returncode == 0:
            return
        time.sleep(0.5)
    status = podman(
        "exec", container, "systemctl", "status", "quietline", "--no-pager", check=False
    )
    raise AssertionError(f"the service did not answer: {status.stdout}")


@pytest.fixture(scope="module")
def host(
    tmp_path_factory: pytest.TempPathFactory,
    deploy_steps: deploy_build.Steps,
    debian_base: str,
    deploy_wheelhouse: Path,
) -> Iterator[str]:
    context = tmp_path_factory.mktemp("systemd-host")
    shutil.copytree(deploy_wheelhouse, context / "wheelhouse")
    shutil.copytree(
        REPOSITORY / "deploy", context / "deploy", ignore=shutil.ignore_patterns("wheelhouse")
    )
    tag = "dev" if deploy_build.KEEP else deploy_build.run_tag()
    image = f"localhost/quietline-systemd-host:{tag}"
    container = f"{deploy_build.run_tag()}-systemd"
    try:
        with deploy_steps("the systemd host image (systemd, python3 from Debian)"):
            present = podman("image", "exists", image, check=False).returncode == 0
            if not (deploy_build.KEEP and present):
                podman(
                    "build",
                    "--quiet",
                    "--layers=false",
                    f"--build-arg=BASE={debian_base}",
                    "--file",
                    str(REPOSITORY / "tests/support/podman/Containerfile.systemd"),
                    "--tag",
                    image,
                    str(context),
                    timeout=1200,
                )
        with deploy_steps("systemd as PID 1, and the guide's block 'systemd'"):
            podman("run", "--detach", "--name", container, "--systemd=always", image)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                state = podman("exec", container, "systemctl", "is-system-running", check=False)
                if state.stdout.strip() in ("running", "degraded"):
                    break
                time.sleep(0.5)
            assert podman("exec", container, "cat", "/proc/1/comm").stdout.strip() == "systemd"
            _sh(container, "\n".join(guide_block("systemd")))
        with deploy_steps("the key ceremony and an officer, as the service's user"):
            shares = json.loads(_sh(container, f"{AS_SERVICE} keys ceremony --install --json"))[
                "shares"
            ]
            _sh(
                container,
                f"{AS_SERVICE} staff add --email officer@city.example --name Officer "
                "--role officer --group solicitor --password-stdin --json",
                "a long and private passphrase\n",
            )
            _sh(
                container,
                f"{AS_SERVICE} directory approve --all --root-shares-stdin",
                "\n".join(shares["root"][:2]) + "\n",
            )
        with deploy_steps("systemctl enable --now quietline"):
            _sh(container, "systemctl enable --now quietline")
            _wait_until_serving(container)
        yield container
    finally:
        podman("rm", "--force", "--time", "5", container, check=False)
        if not deploy_build.KEEP:
            podman("rmi", "--force", image, check=False)


def _main_pid(container: str) -> str:
    pid = _sh(container, "systemctl show --property MainPID --value quietline").strip()
    assert pid not in ("", "0"), pid
    return pid


def test_the_unit_runs_sandboxed_and_serves_a_reporter_across_a_restart(
    host: str, deploy_steps: deploy_build.Steps
) -> None:
    with deploy_steps("the sandbox as the kernel sees it, and systemd's exposure score"):
        pid = _main_pid(host)
        status = _sh(host, f"cat /proc/{pid}/status")
        assert "NoNewPrivs:\t1" in status
        assert "CapEff:\t0000000000000000" in status and "CapBnd:\t0000000000000000" in status
        assert "Seccomp:\t2" in status  # the SystemCallFilter= in force
        user = _sh(host, f"stat -c %U /proc/{pid}").strip()
        assert user == "quietline"
        mounts = _sh(host, f"cat /proc/{pid}/mountinfo")
        root = next(line for line in mounts.splitlines() if line.split()[4] == "/")
        assert " ro," in root or root.split()[5].startswith("ro"), root  # ProtectSystem=strict
        security = _sh(host, "systemd-analyze security --no-pager quietline.service")
        line = next(row for row in security.splitlines() if "Overall exposure level" in row)
        exposure = float(re.findall(r"(\d+\.\d+)", line)[0])
        print(f"\n[deploy] systemd-analyze security, the running unit: {line.strip()}", flush=True)
        assert exposure <= 2.0, line
    with deploy_steps("a reporter's round trip, a restart, the report still there"):
        report = {"category": "financial", "body": "The contract was signed twice."}
        (filed,) = _requests(host, [{"path": "/api/v1/reports", "json": report}])
        assert filed["status"] == 201, filed
        token = json.loads(str(filed["body"]))["token"]
        lookup = {"path": "/api/v1/reports/status", "json": {"token": token}}
        (found,) = _requests(host, [lookup])
        assert found["status"] == 200, found
        _sh(host, "systemctl restart quietline")
        _wait_until_serving(host)
        assert _main_pid(host) != pid
        (again,) = _requests(host, [lookup])
        assert again["status"] == 200, again
        assert json.loads(str(again["body"]))["stage"] == "received"
        journal = _sh(host, "journalctl -u quietline --no-pager -o cat")
        assert token not in journal and "Traceback" not in journal
