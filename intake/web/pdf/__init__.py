"""PDFs the service writes for people to read: the case export and the report for council.

Callers outside this package use the functions here, which import the renderers on first use:
fpdf2 and the font tools it loads hold about 30 MB of a process's memory, and a server that is
never asked for a PDF (most of its life) should not carry them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

if TYPE_CHECKING:
    from intake.casework.export import CaseExport
    from intake.runtime import Runtime


async def case_pdf(export: CaseExport) -> bytes:
    """The case export as a PDF."""
    from intake.web.pdf import case

    return await case.pdf_bytes(export)


async def case_response(export: CaseExport) -> Response:
    """The case export as a PDF download."""
    from intake.web.pdf import case

    return await case.response(export)


async def council_pdf(figures: Mapping[str, Any], runtime: Runtime) -> bytes:
    """The annual report for council, in the caller's language."""
    from intake.web.pdf import council

    return await council.pdf_bytes(figures, runtime)


async def council_response(figures: Mapping[str, Any], runtime: Runtime, year: int) -> Response:
    """The annual report for council as a PDF download."""
    from intake.web.pdf import council

    return council.response(await council.pdf_bytes(figures, runtime), year)
