"""deploy/ built and run: the images from Debian packages, the stack of compose.yaml started with
podman, and a reporter, a staff member and an operator using it as the guide says.

``make deploy-test`` runs this file alone and prints each step and its time; ``make test`` runs
it where podman, runc and debootstrap are installed (``.ci/run`` installs them) and skips it
with the reason elsewhere. The stack is driven by tests/support/podman_stack.py, which reads
compose.yaml (there is one description of the stack); the operator guide's marked blocks
(deploy/README.md, ``<!-- deploy-test: NAME -->``) are the commands run here.

What cannot be shown here: reaching the Tor network (no route to it), so tor only checks the
configuration inside its container.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pyotp
import pyrage
import pytest

from tests.support import deploy_build
from tests.support.operator_guide import run_guide, run_guide_shell_only
from tests.support.podman_stack import Stack, podman, podman_works
from tests.system.test_deploy import _test_certificate

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
OFFICER = "officer@city.example"
LOCKED_OUT = "guesser.target@city.example"
PASSWORD = "a long and private passphrase"
# Low enough to reach in a few requests; the account lock after three failures in a row.
STACK_SETTINGS = {
    "QUIETLINE_RATE_LOOKUPS": "6",
    "QUIETLINE_LOGIN_MAX_FAILURES": "3",
}
KEEP = deploy_build.KEEP  # QUIETLINE_DEPLOY_KEEP_IMAGES=1, while working on these tests
IPV4 = re.compile(rb"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b")

pytestmark = pytest.mark.skipif(
    bool(podman_works() or deploy_build.debootstrap_missing()),
    reason=str(podman_works() or deploy_build.debootstrap_missing()),
)


def _inside(
    stack: Stack, service: str, requests: list[dict[str, object]]
) -> list[dict[str, object]]:
    """HTTP requests made inside ``service``'s container to its own app process on
    127.0.0.1:8000, so the answers come from that process and no other. Request bodies travel
    on standard input, never on a command line."""
    script = (Path(__file__).parents[1] / "support" / "podman" / "request_inside.py").read_text()
    done = stack.exec(service, "python3", "-c", script, stdin=json.dumps(requests))
    assert done.returncode == 0, done.stderr
    answers: list[dict[str, object]] = json.loads(done.stdout)
    return answers


@dataclass
class Deployment:
    stack: Stack
    steps: deploy_build.Steps
    https: str
    shares: dict[str, list[str]]
    totp: dict[str, str]
    backup_identity: str
    tokens: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory,
    deploy_steps: deploy_build.Steps,
    debian_base: str,
    deploy_wheelhouse: Path,
) -> Iterator[Deployment]:
    steps = deploy_steps
    scratch = tmp_path_factory.mktemp("deploy")
    project = deploy_build.run_tag()
    directory = scratch / "deploy"
    shutil.copytree(DEPLOY, directory, ignore=shutil.ignore_patterns("wheelhouse"))
    shutil.copytree(deploy_wheelhouse, directory / "wheelhouse")
    stack = None
    try:
        with steps("the operator's preparation (guide block 'prepare')"):
            run_guide_shell_only(directory, "prepare")
            _test_certificate(directory / "tls")
            backup_identity = pyrage.x25519.Identity.generate()
            settings = {
                **STACK_SETTINGS,
                "QUIETLINE_BACKUP_RECIPIENTS": str(backup_identity.to_public()),
            }
            with (directory / "quietline.env").open("a") as env:
                env.writelines(f"{key}={value}\n" for key, value in settings.items())
        stack = Stack(
            directory,
            project,
            environ={"QUIETLINE_BASE_IMAGE": debian_base},
            tag="dev" if KEEP else project,
        )
        with steps("building the images (guide block 'start')"):
            run_guide(stack, "start")
        with steps("the key ceremony and staff (guide blocks)"):
            shares = json.loads(
                stack.run("init", "keys", "ceremony", "--install", "--json").stdout
            )["shares"]
            totp = {}
            for email in (OFFICER, LOCKED_OUT):
                added = stack.run(
                    "init",
                    "staff",
                    "add",
                    "--email",
                    email,
                    "--name",
                    email.split("@")[0],
                    "--role",
                    "officer",
                    "--group",
                    "solicitor",
                    "--password-stdin",
                    "--json",
                    stdin=PASSWORD + "\n",
                )
                assert added.returncode == 0, added.stderr
                totp[email] = json.loads(added.stdout.strip().splitlines()[-1])["totp_secret"]
            approved = stack.run(
                "init",
                "directory",
                "approve",
                "--all",
                "--root-shares-stdin",
                stdin="\n".join(shares["root"][:2]) + "\n",
            )
            assert approved.returncode == 0, approved.stderr
        with steps("starting the stack (guide block 'up')"):
            run_guide(stack, "up")
            _wait_for_https(stack)
        https = f"https://127.0.0.1:{stack.ports[('proxy', 443)]}"
        yield Deployment(stack, steps, https, shares, totp, str(backup_identity))
    finally:
        with steps("removing the stack's containers, volumes, networks and images"):
            if stack is not None:
                stack.down(images=not KEEP)


def _wait_for_https(stack: Stack) -> None:
    """Until both app processes answer (each asked inside its own container), then nginx
    several times in a row: nginx counts a process that was still starting as failed for a
    few seconds (max_fails, fail_timeout in nginx/upstream.conf)."""
    url = f"https://127.0.0.1:{stack.ports[('proxy', 443)]}/api/v1/form"
    deadline = time.monotonic() + 180
    waiting = ["app1", "app2"]
    in_a_row = 0
    while time.monotonic() < deadline and in_a_row < 4:
        waiting = [
            name
            for name in waiting
            if stack.exec(
                name,
                "python3",
                "-c",
                "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/')",
            ).returncode
            != 0
        ]
        try:
            answered = httpx.get(url, verify=False, timeout=5).status_code == 200
        except httpx.TransportError:
            answered = False
        in_a_row = in_a_row + 1 if answered and not waiting else 0
        if in_a_row < 4:
            time.sleep(1 if in_a_row == 0 else 2)
    if in_a_row < 4:
        raise AssertionError(
            "the stack did not answer through nginx: "
            + "".join(stack.logs(name)[-1500:] for name in ("app1", "app2", "proxy"))
        )


def _status(answer: dict[str, object]) -> int:
    status = answer["status"]
    assert isinstance(status, int)
    return status


def _lookup(token: str) -> dict[str, object]:
    return {"path": "/api/v1/reports/status", "json": {"token": token}}


def test_a_reporter_files_through_nginx_over_tls_and_either_process_finds_the_case(
    deployment: Deployment,
) -> None:
    from tests.support import attachment_files

    stack = deployment.stack
    with deployment.steps("reports with an attachment through nginx over TLS"):
        with httpx.Client(base_url=deployment.https, verify=False, timeout=60) as https:
            for index in range(3):
                body = f"Invoice 4471 was paid twice ({index})."
                report = {"category": "financial", "body": body}
                filed = https.post(
                    "/api/v1/reports",
                    files=[
                        ("report", (None, json.dumps(report), "application/json")),
                        ("files", ("photo.png", attachment_files.png_with_text(), "image/png")),
                    ],
                )
                assert filed.status_code == 201, filed.text
                assert filed.headers["strict-transport-security"] == "max-age=63072000"
                (attachment,) = filed.json()["attachments"]
                assert attachment["name"] == "photo.png"
                deployment.tokens[filed.json()["token"]] = report["body"]
    with deployment.steps("the status lookup on each app process, inside its own container"):
        token = next(iter(deployment.tokens))
        stages = set()
        for process in ("app1", "app2"):
            (answer,) = _inside(stack, process, [_lookup(token)])
            assert _status(answer) == 200, answer
            stages.add(json.loads(str(answer["body"]))["stage"])
        assert stages == {"received"}


def _cookie(answer: dict[str, object]) -> str:
    cookies = answer["cookies"]
    assert isinstance(cookies, list)
    (cookie,) = [c for c in cookies if c.startswith("__Host-quietline_staff=")]
    return str(cookie).split(";", 1)[0]


def test_a_staff_session_made_on_one_process_works_on_the_other(deployment: Deployment) -> None:
    stack = deployment.stack
    with deployment.steps("staff sign-in on app1, the session used on app2 and through nginx"):
        (signed_in,) = _inside(
            stack,
            "app1",
            [
                {
                    "path": "/api/v1/staff/login",
                    "json": {
                        "email": OFFICER,
                        "password": PASSWORD,
                        "totp": pyotp.TOTP(deployment.totp[OFFICER]).now(),
                    },
                }
            ],
        )
        assert _status(signed_in) == 200, signed_in
        headers = {
            "Cookie": _cookie(signed_in),
            "X-CSRF-Token": json.loads(str(signed_in["body"]))["csrf"],
        }
        (queue,) = _inside(stack, "app2", [{"path": "/api/v1/cases", "headers": headers}])
        assert _status(queue) == 200, queue
        refs = [row["ref"] for row in json.loads(str(queue["body"]))["cases"]]
        assert len(refs) == len(deployment.tokens)
        (opened,) = _inside(
            stack, "app2", [{"path": f"/api/v1/cases/{refs[0]}", "headers": headers}]
        )
        assert _status(opened) == 200
        assert json.loads(str(opened["body"]))["report"]["body"] in deployment.tokens.values()
        with httpx.Client(base_url=deployment.https, verify=False, headers=headers) as https:
            assert https.get("/api/v1/cases", timeout=60).status_code == 200
            assert https.post("/api/v1/staff/logout", timeout=60).status_code == 200
        for process in ("app1", "app2"):
            (gone,) = _inside(stack, process, [{"path": "/api/v1/cases", "headers": headers}])
            assert _status(gone) == 401, (process, gone)


def test_rate_limits_and_sign_in_counters_hold_across_both_processes(
    deployment: Deployment,
) -> None:
    stack = deployment.stack
    token = next(iter(deployment.tokens))
    with deployment.steps("look-ups on both processes against one shared limit"):
        # QUIETLINE_RATE_LOOKUPS=6: each process alone would answer all eight of these.
        first = _inside(stack, "app1", [_lookup(token)] * 4)
        second = _inside(stack, "app2", [_lookup(token)] * 4)
        statuses = [_status(answer) for answer in first + second]
        assert set(statuses) <= {200, 429}, statuses
        assert statuses.count(200) <= 6 and 429 in [_status(a) for a in second], statuses
    with deployment.steps("failed sign-ins counted across both processes"):
        wrong = {
            "path": "/api/v1/staff/login",
            "json": {"email": LOCKED_OUT, "password": "not the password", "totp": "000000"},
        }
        failures = _inside(stack, "app1", [wrong, wrong]) + _inside(stack, "app2", [wrong])
        assert all(_status(answer) in (401, 403, 429) for answer in failures), failures
        # The third failure, on the other process, locked the account: the right password
        # and a fresh code are refused too.
        right = {
            "path": "/api/v1/staff/login",
            "json": {
                "email": LOCKED_OUT,
                "password": PASSWORD,
                "totp": pyotp.TOTP(deployment.totp[LOCKED_OUT]).now(),
            },
        }
        (refused,) = _inside(stack, "app1", [right])
        assert _status(refused) != 200 and 400 <= _status(refused) < 500, refused


def test_tor_accepts_the_onion_configuration_in_its_container(deployment: Deployment) -> None:
    # Tor cannot reach the Tor network from here: only its configuration is checked.
    with deployment.steps("tor --verify-config inside the tor image"):
        checked = deployment.stack.run("tor", "--verify-config")
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "Configuration was valid" in checked.stdout


def _mount_points(stack: Stack, name: str) -> set[str]:
    """What podman itself adds to a container's filesystem: the points where it mounts the
    files compose.yaml names (and /etc/hosts, /etc/hostname, /etc/resolv.conf, which mark /etc
    as changed), with their parent folders. Anything else in ``podman diff`` was written by
    the service."""
    service = stack.services[name]
    targets = [volume.split(":")[1] for volume in service.get("volumes", [])]
    targets += [mount.split(":")[0] for mount in service.get("tmpfs", [])]
    allowed = {"C /etc"}
    for target in targets:
        allowed.add(f"A {target}")
        for parent in Path(target).parents:
            if str(parent) != "/":
                allowed.add(f"C {parent}")
    return allowed


def test_nothing_written_outside_the_volumes_nor_any_address_logged(
    deployment: Deployment,
) -> None:
    stack = deployment.stack
    with deployment.steps("filesystem diffs, logs, capabilities, memory"):
        for name in ("db", "app1", "app2", "proxy", "tor"):
            diff = podman("diff", stack.container(name)).stdout.splitlines()
            assert set(diff) <= _mount_points(stack, name), (name, diff)
        for name in ("db", "proxy", "app1", "app2"):
            logs = stack.logs(name).encode()
            # "listening on 0.0.0.0" is PostgreSQL saying where it listens, not who came.
            addresses = set(IPV4.findall(logs)) - {b"0.0.0.0"}
            assert not addresses, (name, addresses, logs[-2000:])
        for name in ("app1", "app2"):
            caps = podman("inspect", "--format", "{{.EffectiveCaps}}", stack.container(name))
            assert caps.stdout.strip() in ("[]", ""), caps.stdout
            status = stack.exec(name, "cat", "/proc/1/status").stdout
            assert "CapEff:\t0000000000000000" in status and "CapPrm:\t0000000000000000" in status
            assert stack.exec(name, "id", "-u").stdout.strip() == "10001"
            wrote = stack.exec(name, "sh", "-c", "echo x > /opt/quietline/x")
            assert wrote.returncode != 0 and "Read-only file system" in wrote.stderr
        stats = podman(
            "stats",
            "--no-stream",
            "--format",
            "{{.Name}} {{.MemUsage}}",
            *(stack.container(name) for name in ("app1", "app2", "db", "proxy")),
        )
        print("\n[deploy] memory after the round trips:\n" + stats.stdout, flush=True)


def test_a_backup_made_in_the_app_container_restores_into_a_fresh_stack(
    deployment: Deployment, tmp_path: Path
) -> None:
    stack = deployment.stack
    with deployment.steps("quietline backup inside app1 (guide block 'backup')"):
        run_guide(stack, "backup")
        carried = tmp_path / "carried"
        carried.mkdir()
        podman(
            "cp", f"{stack.container('app1')}:/backups/quietline.age", str(carried / "backup.age")
        )
        (carried / "identity").write_text(deployment.backup_identity + "\n")
        for path in carried.iterdir():
            path.chmod(0o644)  # read by the app's user in the container
    fresh = Stack(stack.directory, stack.project + "b", environ=stack.environ, tag=stack.tag)
    try:
        with deployment.steps("restore into a fresh stack, then start it"):
            fresh.up(["db"])
            fresh.wait_for("db", "service_healthy")
            restored = fresh.run(
                "init",
                "restore",
                "--in",
                "/carried/backup.age",
                "--identity",
                "/carried/identity",
                volumes=[f"{carried}:/carried:ro"],
            )
            assert restored.returncode == 0, restored.stdout + restored.stderr
            fresh.up()
            _wait_for_https(fresh)
        with deployment.steps("every token and case back in the fresh stack"):
            https = f"https://127.0.0.1:{fresh.ports[('proxy', 443)]}"
            with httpx.Client(base_url=https, verify=False, timeout=60) as client:
                for token in deployment.tokens:
                    found = client.post("/api/v1/reports/status", json={"token": token})
                    if found.status_code == 429:
                        # The look-up limit of this stack is small (6) and its window's counts
                        # live in the database, restored with it: wait as the answer says.
                        time.sleep(int(found.headers.get("retry-after", "10")) + 1)
                        found = client.post("/api/v1/reports/status", json={"token": token})
                    assert found.status_code == 200, found.text
                code = pyotp.TOTP(deployment.totp[OFFICER]).at(int(time.time()) + 30)
                signed_in = client.post(
                    "/api/v1/staff/login",
                    json={"email": OFFICER, "password": PASSWORD, "totp": code},
                )
                assert signed_in.status_code == 200, signed_in.text
                client.cookies.clear()
                (cookie,) = [
                    c.split(";", 1)[0]
                    for c in signed_in.headers.get_list("set-cookie")
                    if c.startswith("__Host-quietline_staff=")
                ]
                headers = {"Cookie": cookie, "X-CSRF-Token": signed_in.json()["csrf"]}
                queue = client.get("/api/v1/cases", headers=headers)
                assert queue.status_code == 200, queue.text
                bodies = set()
                for row in queue.json()["cases"]:
                    case = client.get(f"/api/v1/cases/{row['ref']}", headers=headers)
                    bodies.add(case.json()["report"]["body"])
                assert bodies == set(deployment.tokens.values())
    finally:
        fresh.down(images=False)
