"""Serving an attachment to staff: decrypted as it streams, never rendered by the browser."""

from __future__ import annotations

import unicodedata
from collections.abc import AsyncIterator
from urllib.parse import quote

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import StreamingResponse

from intake.attachments.store import StoredAttachment, plaintext
from intake.casework import view
from intake.runtime import runtime_of
from intake.web.staff_auth import current_staff

_ASCII_SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ._-()[]+,")


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback name and the exact name as RFC 6266 ``filename*``."""
    decomposed = unicodedata.normalize("NFKD", name)
    fallback = "".join(
        ch if ch in _ASCII_SAFE else "_"
        for ch in decomposed
        if unicodedata.category(ch) != "Mn"  # the accents of decomposed letters
    )
    fallback = fallback.strip(" .") or "attachment"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def download_response(
    sessions: async_sessionmaker[AsyncSession], attachment: StoredAttachment, data_key: bytes
) -> StreamingResponse:
    async def body() -> AsyncIterator[bytes]:
        async for piece in plaintext(sessions, attachment, data_key):
            yield piece

    return StreamingResponse(
        body(),
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": content_disposition(attachment.name),
            "Content-Length": str(attachment.size),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


async def case_attachment(request: Request) -> StreamingResponse:
    """One file of a case for a signed-in staff member (the staff page and the API alike),
    decrypted as it streams; the open is audited before the first byte."""
    signed_in = await current_staff(request)
    runtime = runtime_of(request)
    attachment, data_key = await view.open_attachment(
        runtime, signed_in, request.path_params["ref"], request.path_params["attachment_id"]
    )
    return download_response(runtime.sessions, attachment, data_key)
