"""The operator guide's commands, run by the deployment tests: the code blocks of
deploy/README.md marked ``<!-- deploy-test: NAME -->``, so the guide cannot drift from what
works. Shell lines run in the deploy directory; ``docker compose``/``podman-compose`` lines run
through tests/support/podman_stack.py."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.support import deploy_build
from tests.support.podman_stack import Stack

GUIDE = Path(__file__).resolve().parents[2] / "deploy" / "README.md"


def guide_block(name: str) -> list[str]:
    """The commands of the guide's code block marked ``<!-- deploy-test: NAME -->``, one per
    line (continuation lines joined, comments dropped)."""
    text = GUIDE.read_text()
    marker = f"<!-- deploy-test: {name} -->"
    assert marker in text, f"deploy/README.md has no block marked {marker}"
    block = text.split(marker, 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    joined = block.replace("\\\n", " ")
    commands = []
    for line in joined.splitlines():
        line = line.split("   #", 1)[0].strip()
        if line and not line.startswith("#"):
            commands.append(line)
    return commands


def run_guide(stack: Stack, name: str, stdin: dict[str, str] | None = None) -> list[str]:
    """Run the guide's block: shell lines in the deploy directory; compose lines through the
    stack (``docker compose``/``podman-compose`` VERB ...). Their outputs, in order."""
    outputs = []
    for command in guide_block(name):
        compose = re.match(r"^(?:docker compose|podman-compose) (.*)$", command)
        if compose is None:
            done = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", command],
                cwd=stack.directory,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert done.returncode == 0, f"{command}: {done.stderr}"
            outputs.append(done.stdout)
            continue
        outputs.append(_compose(stack, compose.group(1), (stdin or {}).get(command)))
    return outputs


def _compose(stack: Stack, arguments: str, stdin: str | None) -> str:
    words = arguments.split()
    verb, rest = words[0], words[1:]
    if verb == "build":
        stack.build(keep=deploy_build.KEEP)
        return ""
    if verb == "up":
        assert rest[0] == "-d", arguments
        stack.up(rest[1:] or None)
        return ""
    if verb in ("run", "exec"):
        options = []
        while rest and rest[0].startswith("-"):
            options.append(rest.pop(0))
        service, *command = rest
        assert set(options) <= {"--rm", "-T"}, arguments
        if verb == "run":
            done = stack.run(service, *(command or stack.command(service)), stdin=stdin)
        else:
            done = stack.exec(service, *command, stdin=stdin)
        assert done.returncode == 0, f"{arguments}: {done.stdout}{done.stderr}"
        return done.stdout
    raise AssertionError(f"the test cannot run 'compose {arguments}' yet")


def run_guide_shell_only(directory: Path, name: str) -> None:
    for command in guide_block(name):
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", command],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"{command}: {done.stderr}"
