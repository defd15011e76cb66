"""Every module of intake/ and crypto/ imports on its own, in a fresh interpreter.

An import cycle can hide behind whichever module the application happens to import first;
tests/support/import_alone.py imports each module alone (one forked child each) to bring it out.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / "tests" / "support" / "import_alone.py"
# Alembic's scripts run only inside alembic, which provides their `context`.
ALEMBIC_SCRIPTS = ["intake/storage/migrations/env.py", "intake/storage/migrations/versions"]


def import_alone(root: Path, packages: list[str], exclude: Sequence[str] = ()) -> tuple[int, str]:
    command = [sys.executable, "-P", str(DRIVER), "--root", str(root)]
    command += [arg for package in packages for arg in ("--package", package)]
    command += [arg for path in exclude for arg in ("--exclude", path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    return done.returncode, done.stdout + done.stderr


def test_every_module_imports_alone() -> None:
    status, output = import_alone(ROOT, ["intake", "crypto"], ALEMBIC_SCRIPTS)
    assert status == 0, output
    scripts = len(list((ROOT / "intake/storage/migrations/versions").glob("*.py"))) + 1
    modules = sum(len(list((ROOT / package).rglob("*.py"))) for package in ("intake", "crypto"))
    assert f"{modules - scripts} modules, 0 failed" in output


def write(root: Path, files: dict[str, str]) -> None:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")


def test_a_cycle_hidden_by_import_order_is_caught(tmp_path: Path) -> None:
    """The shape of the cycle that once ran through intake/web/api/__init__.py."""
    write(
        tmp_path,
        {
            "cyclic/__init__.py": "",
            # The package __init__ imports every module of the package...
            "cyclic/api/__init__.py": "from cyclic.api import reporter\n",
            "cyclic/api/parsing.py": "import json\n\nparse = json.loads\n",
            # ...one of which needs a name from upload, which itself needs api.parsing.
            "cyclic/api/reporter.py": "from cyclic.upload import LIMIT\n",
            "cyclic/upload.py": "from cyclic.api.parsing import parse\n\nLIMIT = 10\n",
        },
    )
    status, output = import_alone(tmp_path, ["cyclic"])
    assert status == 1, output
    failed = [line for line in output.splitlines() if line.startswith("FAIL ")]
    # Imported first, the package works; upload imported alone meets itself half-made.
    assert failed == ["FAIL cyclic.upload"], output
    assert "partially initialized module 'cyclic.upload'" in output
    assert "5 modules, 1 failed to import alone" in output
