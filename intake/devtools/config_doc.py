"""docs/configuration.md, generated from the fields of intake/config.py.

``python -m intake.devtools.config_doc`` (``make config-doc``) writes the page;
``--check`` only says whether the committed page is what the fields say (the
test suite runs the same comparison). Each row is one field: its variable, its
default (``shown`` where the value itself does not read well) and its meaning.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

from intake.config import Settings
from intake.config_fields import variable

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "configuration.md"

INTRO = """\
# Configuration

<!-- Generated from the fields of intake/config.py by `python -m intake.devtools.config_doc`
     (`make config-doc`): change a setting there, then run it. Do not edit this page. -->

Settings come from the environment; every command also takes `--data-dir`, which wins over
`QUIETLINE_DATA_DIR`. A value that cannot be used stops the command with a message naming its
variable. An empty variable counts as unset for the settings whose default is "none" or is
worked out from the data directory.
"""

NOTES = """\
With several app processes or hosts, give all of them the same `QUIETLINE_SECRET_KEY` and
`QUIETLINE_TOKEN_PEPPER` (or the same `server-secrets.json`).

Secrets (`QUIETLINE_SECRET_KEY`, `QUIETLINE_TOKEN_PEPPER`, `QUIETLINE_SMTP_PASSWORD`, and the
password in `QUIETLINE_DATABASE_URL`) never appear when the settings are printed or logged (see
SECURITY.md, *Secret settings never print*).

`QUIETLINE_SQLITE_DRIVER=stock` is the fallback for a SQLAlchemy release that moved the internals
of Quietline's SQLite dialect: it behaves the same and costs more time per statement.
"""


def shown_default(field: dataclasses.Field[Any]) -> str:
    """A field's default as the table shows it."""
    if field.metadata.get("shown"):
        return str(field.metadata["shown"])
    value = field.default
    if value is None or value in ("", ()):
        return "none"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, float):
        return f"`{value:g}`"
    return f"`{value}`"


def render() -> str:
    """The whole page, from the fields."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for field in dataclasses.fields(Settings):
        name = variable(field)
        if name is not None:
            rows.append(f"| `{name}` | {shown_default(field)} | {field.metadata['doc']} |")
    return f"{INTRO}\n" + "\n".join(rows) + f"\n\n{NOTES}"


def main(argv: list[str]) -> int:
    page = render()
    if argv == ["--check"]:
        if PAGE.exists() and PAGE.read_text(encoding="utf-8") == page:
            return 0
        print(f"{PAGE.relative_to(ROOT)} differs from intake/config.py: run make config-doc")
        return 1
    if argv:
        print("usage: python -m intake.devtools.config_doc [--check]")
        return 2
    PAGE.parent.mkdir(exist_ok=True)
    PAGE.write_text(page, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
