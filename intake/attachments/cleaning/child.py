"""The child side of :mod:`intake.attachments.cleaning.isolated`: limit, read, clean, answer.

``python -m intake.attachments.cleaning.child pdf`` reads a document on standard input and
writes ``len(header) || header (JSON) || cleaned bytes`` on standard output. A document the
cleaner refuses for a stated reason (:class:`.errors.Unreadable`, say a digital signature) gets
a header naming that reason and no bytes, so the reporter is told why; any other failure exits
non-zero.
"""

from __future__ import annotations

import io
import json
import resource
import sys

from intake.attachments.cleaning.isolated import CPU_SECONDS, MEMORY_LIMIT


def main() -> int:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if sys.argv[1:] != ["pdf"]:
        return 2
    from intake.attachments.cleaning.errors import Unreadable
    from intake.attachments.cleaning.pdf import clean_pdf

    document = io.BytesIO(sys.stdin.buffer.read())
    cleaned = io.BytesIO()
    answer: dict[str, object]
    try:
        answer = {"removed": list(clean_pdf(document, cleaned.write))}
    except Unreadable as exc:  # a stated reason: the parent keeps the file and says why
        answer, cleaned = {"unreadable": str(exc)}, io.BytesIO()
    except Exception:  # noqa: BLE001 - any failure: the parent keeps the file as uploaded
        return 1
    header = json.dumps(answer).encode()
    out = sys.stdout.buffer
    out.write(len(header).to_bytes(4, "big") + header)
    out.write(cleaned.getbuffer())
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
