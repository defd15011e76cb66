"""Evidence attachments: streamed, encrypted uploads with metadata stripping.

- :mod:`~intake.web.upload` reads multipart uploads as they stream in, under limits;
- :mod:`~intake.attachments.staging` keeps them encrypted in unnamed temporary files meanwhile;
- :mod:`~intake.attachments.cleaning` strips identifying metadata from known formats;
- :mod:`~intake.attachments.prepare` cleans and encrypts each file for its case;
- :mod:`~intake.attachments.store` keeps them in the database, lists, streams and deletes them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlmodel.ext.asyncio.session import AsyncSession

__all__ = ["delete_for_case", "delete_for_cases"]


async def delete_for_case(session: AsyncSession, case_id: str) -> int:
    """Delete every file of a case in the caller's transaction; see
    :func:`intake.attachments.store.delete_for_case`. (Imported lazily so that the cleaning
    child process does not load the database layer.)"""
    from intake.attachments.store import delete_for_case as delete

    return await delete(session, case_id)


async def delete_for_cases(session: AsyncSession, case_ids: Sequence[str]) -> dict[str, int]:
    """Delete every file of several cases in the caller's transaction; how many each had."""
    from intake.attachments.store import delete_for_cases as delete

    return await delete(session, case_ids)
