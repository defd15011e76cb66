"""Static and supply-chain scanners, run with the suite: bandit on our code, pip-audit on what
is installed. A finding fails the run unless SECURITY.md explains it (and the scanner's
configuration names it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# Findings explained in SECURITY.md ("Scanner findings"), by vulnerability id.
EXPLAINED_VULNERABILITIES: set[str] = set()


def test_bandit_finds_nothing_in_our_code() -> None:
    scanned = subprocess.run(
        [str(BIN / "bandit"), "-q", "-c", "pyproject.toml", "-r", "intake", "crypto", "-f", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(scanned.stdout)
    findings = [
        f"{item['filename']}:{item['line_number']} {item['test_id']} {item['issue_text']}"
        for item in report["results"]
    ]
    assert findings == []
    assert report["metrics"]["_totals"]["loc"] > 1000  # it really read the code


def _pypi_vulnerabilities(client: httpx.Client, name: str, version: str) -> list[str] | None:
    """Known vulnerabilities of ``name`` at ``version`` from PyPI's project JSON.

    The project document lists the vulnerabilities of its newest release only, so this
    answers for a package at its newest release and returns None for any other.
    """
    answer = client.get(f"https://pypi.org/pypi/{name}/json")
    if answer.status_code != 200:
        return None
    try:
        project = answer.json()
    except ValueError:
        return None
    if project["info"]["version"] != version:
        return None
    return [item["id"] for item in project.get("vulnerabilities") or []]


def test_installed_packages_have_no_known_vulnerabilities() -> None:
    """pip-audit first; where it cannot reach PyPI's per-version JSON (the index this suite
    reaches serves only the per-project document), the per-project document's list."""
    audited = subprocess.run(
        [str(BIN / "pip-audit"), "--skip-editable", "--progress-spinner", "off", "-f", "json"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if not audited.stdout.strip():
        message = f"pip-audit could not run: {audited.stderr[-500:]}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    report = json.loads(audited.stdout)
    found: dict[str, list[str]] = {}
    unaudited: list[str] = []
    with httpx.Client(timeout=30) as client:
        for dependency in report["dependencies"]:
            name = dependency["name"]
            if name == "quietline":
                continue
            if "skip_reason" not in dependency:
                ids = [vuln["id"] for vuln in dependency.get("vulns", [])]
            else:
                try:
                    version = metadata.version(name)
                    listed = _pypi_vulnerabilities(client, name, version)
                except (httpx.HTTPError, metadata.PackageNotFoundError):
                    listed = None
                if listed is None:
                    unaudited.append(name)
                    continue
                ids = listed
            unexplained = [vuln for vuln in ids if vuln not in EXPLAINED_VULNERABILITIES]
            if unexplained:
                found[name] = unexplained
    assert found == {}, f"known vulnerabilities: {found}"
    # Most dependencies must really have been checked; the rest are named in the failure.
    checked = len(report["dependencies"]) - len(unaudited)
    assert checked >= len(report["dependencies"]) // 2, f"could not audit: {unaudited}"
