"""Import each module of some packages on its own, each in a fresh process.

A module must import alone: an import cycle between the package's own modules can hide
behind whichever module the application happens to import first (upload -> api.parsing ->
api/__init__ -> api.reporter -> upload failed only when upload came first).

Starting one interpreter per module would cost a second each, mostly spent importing
SQLAlchemy, Starlette and the like. So this script, run in a fresh interpreter, imports
the third-party modules the packages name (never a module of the packages themselves),
then forks one child per module; each child starts with none of the packages' modules
loaded and imports exactly one. Cycles among the packages' own modules show exactly as
they would in a fresh interpreter.

    python -P tests/support/import_alone.py --root DIR --package intake --package crypto \
        [--exclude intake/storage/migrations/env.py ...] [--jobs 2]

prints one line per module that failed (``FAIL module`` then its traceback) and exits 1
if any did. Run it with ``-P`` so the directory of this script is not put on ``sys.path``.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib
import importlib.util
import os
import sys
import tempfile
import traceback
from collections.abc import Iterable, Iterator
from pathlib import Path


def module_names(root: Path, package: str, excluded: Iterable[Path]) -> list[str]:
    """Every module of ``package`` under ``root``, skipping excluded files and folders."""
    skip = [(root / path).resolve() for path in excluded]
    names = []
    for path in sorted((root / package).rglob("*.py")):
        resolved = path.resolve()
        if any(resolved == s or s in resolved.parents for s in skip):
            continue
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return names


def third_party_imports(root: Path, packages: set[str], modules: Iterable[str]) -> set[str]:
    """Absolute imports in the modules' source that lie outside ``packages``."""
    found: set[str] = set()
    for name in modules:
        path = root.joinpath(*name.split("."))
        source = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module)
    return {name for name in found if name.split(".")[0] not in packages}


def preload(names: Iterable[str]) -> None:
    """Import what can be imported; a failure shows again, in the child that needs it."""
    for name in sorted(names):
        with contextlib.suppress(Exception), contextlib.redirect_stdout(None):
            importlib.import_module(name)


def import_in_child(module: str, report: Path) -> int:
    """Fork; the child imports ``module`` and writes its traceback to ``report`` on failure."""
    pid = os.fork()
    if pid:
        return pid
    status = 0
    try:
        # A __main__ module runs its command when imported: ask it for help, quietly.
        sys.argv = ["import-alone", "--help"]
        with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
            try:
                importlib.import_module(module)
            except SystemExit as stop:
                if stop.code not in (0, None):
                    raise
    except BaseException:
        report.write_text(traceback.format_exc(), encoding="utf-8")
        status = 1
    finally:
        os._exit(status)


def run(modules: list[str], jobs: int) -> Iterator[tuple[str, str]]:
    """Import each module in its own child, ``jobs`` at a time; yield (module, traceback)."""
    with tempfile.TemporaryDirectory() as scratch:
        pending = list(enumerate(modules))
        running: dict[int, tuple[str, Path]] = {}
        while pending or running:
            while pending and len(running) < jobs:
                index, module = pending.pop(0)
                report = Path(scratch) / f"{index}.txt"
                running[import_in_child(module, report)] = (module, report)
            pid, status = os.wait()
            module, report = running.pop(pid)
            if status:
                text = report.read_text(encoding="utf-8") if report.exists() else ""
                yield module, text or f"exited with status {status}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--package", action="append", required=True)
    parser.add_argument("--exclude", type=Path, action="append", default=[])
    parser.add_argument("--jobs", type=int, default=2)
    options = parser.parse_args(argv)
    root = options.root.resolve()
    sys.path.insert(0, str(root))
    modules = [
        name for package in options.package for name in module_names(root, package, options.exclude)
    ]
    packages = set(options.package)
    for package in packages:
        spec = importlib.util.find_spec(package)
        where = [Path(p).resolve() for p in (spec.submodule_search_locations or [])] if spec else []
        if where != [root / package]:
            print(f"{package} resolves to {where}, not under {root}", file=sys.stderr)
            return 2
    preload(third_party_imports(root, packages, modules))
    loaded = sorted(name for name in sys.modules if name.split(".")[0] in packages)
    if loaded:
        print(f"preloading third-party modules imported {loaded}", file=sys.stderr)
        return 2
    failed = 0
    for module, text in run(modules, options.jobs):
        failed += 1
        print(f"FAIL {module}\n{text}")
    print(f"{len(modules)} modules, {failed} failed to import alone")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
