"""Attachments in the database: encrypted chunks in rows, names and details as sealed fields.

The ciphertext lives in the database (``attachmentchunk``), not in files beside it: several app
processes sharing PostgreSQL all see every file, and a backup, restore or purge of the database
covers attachments with the rest of the case. Each row holds up to :data:`ROW_CHUNKS` sealed
STREAM chunks (about 1 MiB), so a download reads one row at a time and memory stays flat.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import anyio.to_thread
from sqlalchemy import delete, insert
from sqlalchemy import select as sql_select
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

import crypto
from intake.attachments.prepare import Cleaning, PreparedAttachment
from intake.storage.models import Attachment, AttachmentChunk, Entry

ROW_CHUNKS = 16
ROW_BYTES = ROW_CHUNKS * crypto.SEALED_CHUNK_SIZE


def name_field(attachment_id: str) -> str:
    return f"attachment-name:{attachment_id}"


def details_field(attachment_id: str) -> str:
    return f"attachment-details:{attachment_id}"


@dataclass(frozen=True)
class StoredAttachment:
    """An attachment as staff see it, decrypted with the case data key."""

    id: str
    case_id: str
    entry_id: str
    name: str
    size: int
    content_type: str
    cleaning: Cleaning
    epoch: int = crypto.FIRST_EPOCH  # the case key epoch it is encrypted in

    @property
    def cleaned(self) -> bool:
        return self.cleaning.cleaned


async def save(
    session: AsyncSession,
    data_key: bytes,
    *,
    case_id: str,
    entry_id: str,
    position: int,
    prepared: PreparedAttachment,
    epoch: int = crypto.FIRST_EPOCH,
) -> None:
    """Write one prepared attachment in the caller's transaction (copying its ciphertext);
    ``data_key`` is the key of the case's ``epoch``, which it was prepared with."""
    details = {
        "size": prepared.size,
        "content_type": prepared.content_type,
        "cleaning": prepared.cleaning.as_dict(),
    }
    attachment = Attachment(
        id=prepared.id,
        case_id=case_id,
        entry_id=entry_id,
        position=position,
        header=prepared.sealed.header,
        name=crypto.encrypt_field(
            data_key, prepared.name.encode("utf-8"), case_id=case_id, field=name_field(prepared.id)
        ),
        details=crypto.encrypt_field(
            data_key,
            json.dumps(details).encode("utf-8"),
            case_id=case_id,
            field=details_field(prepared.id),
        ),
        epoch=epoch,
        stored_bytes=prepared.sealed.stored_size(),
    )
    session.add(attachment)
    await session.flush()
    connection = await session.connection()
    for seq, (offset, length) in enumerate(prepared.sealed.pieces(ROW_BYTES)):
        data = await anyio.to_thread.run_sync(prepared.sealed.read_piece, offset, length)
        await connection.execute(
            insert(AttachmentChunk).values(attachment_id=prepared.id, seq=seq, data=data)
        )


def _decrypt(keys: crypto.KeyEpochs, attachment: Attachment) -> StoredAttachment:
    data_key = keys.of(attachment.epoch)
    name = crypto.decrypt_field(
        data_key, attachment.name, case_id=attachment.case_id, field=name_field(attachment.id)
    ).decode("utf-8")
    details = json.loads(
        crypto.decrypt_field(
            data_key,
            attachment.details,
            case_id=attachment.case_id,
            field=details_field(attachment.id),
        )
    )
    return StoredAttachment(
        id=attachment.id,
        case_id=attachment.case_id,
        entry_id=attachment.entry_id,
        name=name,
        size=int(details["size"]),
        content_type=str(details["content_type"]),
        cleaning=Cleaning.from_dict(details["cleaning"]),
        epoch=attachment.epoch,
    )


async def list_for_case(
    session: AsyncSession, case_id: str, keys: crypto.KeyEpochs
) -> list[StoredAttachment]:
    """Every attachment of a case, each entry's in the order they were sent. The entries' own
    order is encrypted (intake/casework/records.py): callers sort by it."""
    rows = await session.exec(
        select(Attachment)
        .join(Entry, col(Entry.id) == col(Attachment.entry_id))
        .where(Attachment.case_id == case_id)
        .order_by(col(Attachment.entry_id), col(Attachment.position))
    )
    return [_decrypt(keys, row) for row in rows.all()]


async def find(
    session: AsyncSession, case_id: str, attachment_id: str, keys: crypto.KeyEpochs
) -> StoredAttachment | None:
    """One attachment of the given case (None if it does not exist or is another case's)."""
    row = await session.get(Attachment, attachment_id)
    if row is None or row.case_id != case_id:
        return None
    return _decrypt(keys, row)


async def plaintext(
    sessions: async_sessionmaker[AsyncSession], attachment: StoredAttachment, data_key: bytes
) -> AsyncIterator[bytes]:
    """The decrypted content, row by row. Raises :class:`crypto.DecryptionError` at the point
    where the stored ciphertext stops opening (altered, truncated or reordered): a streamed
    response then breaks off instead of ending as if complete."""
    async with sessions() as session:
        row = await session.get(Attachment, attachment.id)
        if row is None:
            raise LookupError("the attachment was deleted")
        decryptor = crypto.StreamDecryptor(
            data_key, row.header, case_id=row.case_id, attachment_id=row.id
        )
        seq = 0
        while True:
            connection = await session.connection()
            result = await connection.execute(
                sql_select(AttachmentChunk.data).where(  # type: ignore[arg-type]
                    col(AttachmentChunk.attachment_id) == row.id, col(AttachmentChunk.seq) == seq
                )
            )
            data = result.scalar_one_or_none()
            if data is None:
                break
            plain = decryptor.update(data)
            if plain:
                yield plain
            seq += 1
        yield decryptor.finalize()


async def delete_for_case(session: AsyncSession, case_id: str) -> int:
    """Delete every attachment of a case (content, name, details), in the caller's transaction.

    Returns how many were deleted. With SQLite's ``secure_delete`` the freed pages are
    overwritten; in any case the ciphertext is unreadable once the case's key wraps are gone.
    """
    return (await delete_for_cases(session, [case_id])).get(case_id, 0)


async def delete_for_cases(session: AsyncSession, case_ids: Sequence[str]) -> dict[str, int]:
    """:func:`delete_for_case` for several cases in three statements; how many files each
    case had (cases without any are left out)."""
    rows = (
        await session.exec(
            select(Attachment.id, Attachment.case_id).where(col(Attachment.case_id).in_(case_ids))
        )
    ).all()
    if not rows:
        return {}
    counts: dict[str, int] = {}
    for _id, case_id in rows:
        counts[case_id] = counts.get(case_id, 0) + 1
    await session.exec(
        delete(AttachmentChunk).where(  # type: ignore[call-overload]
            col(AttachmentChunk.attachment_id).in_([row[0] for row in rows])
        )
    )
    await session.exec(delete(Attachment).where(col(Attachment.case_id).in_(case_ids)))  # type: ignore[call-overload]
    return counts
