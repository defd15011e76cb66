"""``python -m intake.cli``: the ``quietline`` command."""

from intake.cli.app import main

raise SystemExit(main())
