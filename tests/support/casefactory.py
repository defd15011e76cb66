"""Building cases in any state for tests: filed through the real intake path, then moved
along by setting plaintext columns directly (what staff workflow would have recorded)."""

from __future__ import annotations

from datetime import date

from sqlmodel import col, select

import crypto
from intake.accounts import keyring
from intake.attachments.staging import StagedFile, staging_directory
from intake.casework import filing, records
from intake.casework.vocabulary import Author, EntryKind
from intake.runtime import Runtime
from intake.storage import db
from intake.storage.models import Attachment, AttachmentChunk, Case, CaseKey, Entry


async def file_report(
    runtime: Runtime,
    *,
    category: str = "financial",
    body: str = "A concern.",
    attachments: tuple[tuple[str, bytes], ...] = (),
    **extra: object,
) -> tuple[str, Case]:
    """File a report through the real intake path (with files, as a reporter sends them)."""
    staged = []
    for name, content in attachments:
        item = StagedFile(
            staging_directory(runtime.settings.data_dir),
            filename=name,
            declared_type="application/octet-stream",
        )
        item.write(content)
        item.finish()
        staged.append(item)
    token = await report_token(runtime, category=category, body=body, files=staged, **extra)
    async with runtime.sessions() as session:
        case = (
            await session.exec(
                select(Case).where(
                    Case.lookup
                    == crypto.token_lookup_key(
                        runtime.secrets.token_pepper, crypto.normalise_token(token)
                    )
                )
            )
        ).one()
    return token, case


async def report_token(
    runtime: Runtime,
    *,
    category: str = "financial",
    body: str = "A concern.",
    files: list[StagedFile] | None = None,
    **extra: object,
) -> str:
    """File a report through the real intake path (as the web form does); its token."""
    filed = await filing.file_report(
        runtime,
        filing.NewReport(category=category, body=body, **extra),  # type: ignore[arg-type]
        files=files or (),
    )
    return filed.token


async def update_case(runtime: Runtime, case_id: str, **values: object) -> Case:
    async with db.transaction(runtime.sessions) as session:
        case = (await session.exec(select(Case).where(Case.id == case_id))).one()
        for name, value in values.items():
            setattr(case, name, value)
        session.add(case)
    return case


async def data_key_with(
    runtime: Runtime, case_id: str, private_key: bytes, *, recovery: bool = False
) -> crypto.KeyEpochs | None:
    """Open the case's keys with a private key, trying every wrap; None when none opens."""
    async with runtime.sessions() as session:
        wraps = (await session.exec(select(CaseKey).where(CaseKey.case_id == case_id))).all()
    for wrap in wraps:
        if recovery != (wrap.recovery_key_id is not None):
            continue
        try:
            return crypto.KeyEpochs.unpack(
                crypto.unseal(
                    wrap.sealed, private_key, case_id=case_id, purpose=keyring.CASE_KEY_PURPOSE
                )
            )
        except crypto.DecryptionError:
            continue
    return None


async def add_entry(
    runtime: Runtime,
    case_id: str,
    keys: crypto.KeyEpochs,
    *,
    kind: EntryKind,
    author: Author,
    on: date,
    body: str,
) -> Entry:
    async with db.transaction(runtime.sessions) as session:
        seq = await records.next_seq(session, case_id)
        entry = records.encrypted_entry(
            keys, case_id=case_id, seq=seq, kind=kind, author=author, on=on, body=body
        )
        session.add(entry)
    return entry


async def entries_of(runtime: Runtime, case_id: str) -> list[Entry]:
    async with runtime.sessions() as session:
        return list(
            (
                await session.exec(
                    select(Entry).where(Entry.case_id == case_id).order_by(col(Entry.seq))
                )
            ).all()
        )


async def keys_of(runtime: Runtime, case_id: str) -> list[CaseKey]:
    async with runtime.sessions() as session:
        return list((await session.exec(select(CaseKey).where(CaseKey.case_id == case_id))).all())


async def attachment_rows(runtime: Runtime, case_id: str) -> tuple[list[Attachment], int]:
    """A case's attachment rows and how many ciphertext chunk rows they have."""
    async with runtime.sessions() as session:
        rows = list(
            (await session.exec(select(Attachment).where(Attachment.case_id == case_id))).all()
        )
        chunks = (
            await session.exec(
                select(AttachmentChunk).where(
                    col(AttachmentChunk.attachment_id).in_([row.id for row in rows])
                )
            )
        ).all()
    return rows, len(chunks)
