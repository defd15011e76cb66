"""Developer commands: ``python -m intake.devtools new-migration "message"``."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config

from intake.storage.db import MIGRATIONS


def new_migration(message: str) -> None:
    """Autogenerate a revision by diffing the models against a database at head."""
    with tempfile.TemporaryDirectory() as scratch:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["database_url"] = f"sqlite+aiosqlite:///{Path(scratch) / 'schema.db'}"
        command.upgrade(config, "head")
        number = len(list((MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))) + 1
        command.revision(config, message=message, autogenerate=True, rev_id=f"{number:04d}")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "new-migration":
        sys.exit('usage: python -m intake.devtools new-migration "message"')
    new_migration(sys.argv[2])
