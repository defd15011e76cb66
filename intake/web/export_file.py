"""The case export as an HTML file, streamed: to a staff member's browser or to a file.

:mod:`intake.casework.export` checks the key, audits the export and gathers the case; here the
template ``export/case.html`` is rendered piece by piece (Jinja's async ``generate``), each
attachment decrypted and base64-encoded a database row at a time, so the process holds about one
row of an attachment at any moment, not the file (see ``tests/integration/test_export.py``
for the bound).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import BinaryIO, TextIO

import jinja2
from markupsafe import Markup
from starlette.responses import StreamingResponse

from intake import i18n
from intake.attachments.store import StoredAttachment
from intake.casework.export import CaseExport
from intake.web import export_words
from intake.web.templating import TEMPLATES

TEMPLATE = "export/case.html"
MEDIA_TYPE = "text/html; charset=utf-8"

_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    enable_async=True,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


async def _base64_of(export: CaseExport, attachment: StoredAttachment) -> AsyncIterator[Markup]:
    # The base64 alphabet (letters, digits, "+", "/", "=") needs no escaping in HTML. Escaping
    # would scan every piece for characters it cannot hold: about 10 ms a megabyte here, two
    # seconds of a 200 MB export.
    async for piece in export.encoded(attachment):
        yield Markup(piece)  # noqa: S704  # nosec B704 - base64 only (attachments/embedding.py)


async def html_pieces(export: CaseExport) -> AsyncIterator[str]:
    """The export file's HTML, in the order it is written."""
    template = _environment.get_template(TEMPLATE)
    titles = {name: i18n.gettext(title) for name, title in export_words.SECTION_TITLES.items()}
    pieces = template.generate_async(
        export=export,
        words=export_words,
        titles=titles,
        lang=i18n.to_tag(i18n.current_locale()),
        base64_of=lambda attachment: _base64_of(export, attachment),
    )
    async for piece in pieces:
        yield piece


def response(export: CaseExport) -> StreamingResponse:
    """The file as a download. The key was checked before this is built, so a refusal is an
    ordinary error page; an attachment that stops decrypting breaks the stream off."""
    return StreamingResponse(
        html_pieces(export),
        media_type=MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{export.file_name()}"'},
    )


async def write(export: CaseExport, out: TextIO) -> None:
    """Write the file to an open text file, piece by piece."""
    async for piece in html_pieces(export):
        out.write(piece)


async def write_bytes(export: CaseExport, out: BinaryIO) -> None:
    """Write the file to an open binary file, piece by piece, in UTF-8."""
    async for piece in html_pieces(export):
        out.write(piece.encode("utf-8"))
