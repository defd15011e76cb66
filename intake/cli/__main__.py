"""``python -m intake.cli``: the ``quietline`` command."""

from intake.cli import main

raise SystemExit(main())
