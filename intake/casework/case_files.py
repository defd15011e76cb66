"""The files a reporter sends with a report or a message: cleaned and encrypted for the case
before the write (intake/attachments/prepare.py), then stored in the write's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass

import anyio.to_thread
from sqlmodel.ext.asyncio.session import AsyncSession

import crypto
from intake.attachments import budget
from intake.attachments import store as attachment_store
from intake.attachments.prepare import Cleaning, PreparedAttachment, prepare
from intake.attachments.staging import StagedFile, staging_directory
from intake.runtime import Runtime


@dataclass(frozen=True)
class AttachmentOutcome:
    """What the reporter is told about one file they sent."""

    name: str
    size: int
    cleaning: Cleaning


async def prepare_attachments(
    runtime: Runtime,
    stack: ExitStack,
    files: Sequence[StagedFile],
    *,
    data_key: bytes,
    case_id: str,
) -> list[PreparedAttachment]:
    """Clean and encrypt each staged file for the case (in a worker thread, one at a time);
    each is closed when ``stack`` closes."""
    directory = staging_directory(runtime.settings.data_dir)
    prepared = []
    for staged in files:
        item = await anyio.to_thread.run_sync(
            lambda staged=staged: prepare(
                staged,
                directory=directory,
                data_key=data_key,
                case_id=case_id,
                clean_max_bytes=runtime.settings.attachment_clean_max_bytes,
            )
        )
        stack.callback(item.close)
        prepared.append(item)
    return prepared


async def save_attachments(
    session: AsyncSession,
    data_key: bytes,
    prepared: Sequence[PreparedAttachment],
    *,
    case_id: str,
    entry_id: str,
    epoch: int = crypto.FIRST_EPOCH,
) -> list[AttachmentOutcome]:
    """Store prepared files under an entry of the case; what the reporter is told of each.
    ``data_key`` is the key of ``epoch``, the one they were prepared with."""
    for position, item in enumerate(prepared):
        await attachment_store.save(
            session,
            data_key,
            case_id=case_id,
            entry_id=entry_id,
            position=position,
            prepared=item,
            epoch=epoch,
        )
    return [AttachmentOutcome(item.name, item.size, item.cleaning) for item in prepared]


async def charge_budget(
    session: AsyncSession, runtime: Runtime, prepared: Sequence[PreparedAttachment]
) -> None:
    """Count a reporter's files, just stored in the caller's transaction, against the storage
    budget (intake/attachments/budget.py); a :class:`~intake.attachments.budget.StorageFull`
    rolls the whole write back. Call it last before the commit."""
    if prepared:
        stored = sum(item.sealed.stored_size() for item in prepared)
        await budget.charge(await session.connection(), runtime, stored)
