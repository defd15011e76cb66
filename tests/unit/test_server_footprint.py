"""What a server process carries before anyone asks it for anything.

The PDF renderers (fpdf2, the font tools it loads, Pillow for the export's images) hold about
30 MB: a server that is never asked for a PDF, which is most of its life, must not load them.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("fpdf", "fontTools", "PIL")
PROBE = f"""
import json, sys
import intake.cli.app, intake.web.app
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r})))
"""


def test_starting_the_server_loads_no_pdf_renderer() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True
    )
    assert json.loads(done.stdout) == []
