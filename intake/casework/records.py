"""What a case stores of what people wrote: entries and exclusions, encrypted with the case's
data key and bound to their case and field; the checks a text passes before it is stored; and
the numbering of a case's entries.

A case's keys come in epochs (:class:`crypto.KeyEpochs`; intake/casework/epochs.py): an entry is
written under the newest and records its epoch, and is read with that epoch's key.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from datetime import date
from typing import Any, Protocol, TypeVar

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

import crypto
from intake.casework.vocabulary import Author, EntryKind
from intake.errors import InvalidInput
from intake.i18n import N_
from intake.storage.models import Case, Entry, new_id

REF_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
EXCLUSIONS_FIELD = "exclusions"


def new_ref() -> str:
    """The staff-facing reference: random, and unrelated to the token."""
    draw = secrets.randbits(50)  # ten characters of five bits each, in one draw
    chars = "".join(REF_ALPHABET[(draw >> (5 * i)) & 31] for i in range(10))
    return f"QL-{chars[:5]}-{chars[5:]}"


def entry_field(kind: EntryKind, entry_id: str) -> str:
    """The field an entry's ciphertext is bound to (its kind and id)."""
    return f"{kind}:{entry_id}"


# What a person is told about a text they wrote, by what the text is.
TEXT_PROBLEMS = {
    "report": {
        "empty": N_("The report is empty: please write what happened."),
        "long": N_(
            "The report is too long: %(count)s characters, the limit is %(limit)s. "
            "Please shorten it; you can add more later as a follow-up message."
        ),
        "unsavable": N_("The report contains a character that cannot be saved."),
    },
    "message": {
        "empty": N_("The message is empty: please write something to send."),
        "long": N_(
            "The message is too long: %(count)s characters, the limit is %(limit)s. "
            "Please shorten it, or send it in two parts."
        ),
        "unsavable": N_("The message contains a character that cannot be saved."),
    },
    "text": {
        "empty": N_("The text is empty: please write something."),
        "long": N_("The text is too long: %(count)s characters, the limit is %(limit)s."),
        "unsavable": N_("The text contains a character that cannot be saved."),
    },
    "note": {
        "empty": N_("The note is empty: please write something."),
        "long": N_("The note is too long: %(count)s characters, the limit is %(limit)s."),
        "unsavable": N_("The note contains a character that cannot be saved."),
    },
    "reason for the outcome": {
        "empty": N_("The reason for the outcome is empty: please write it."),
        "long": N_(
            "The reason for the outcome is too long: %(count)s characters, the limit is %(limit)s."
        ),
        "unsavable": N_("The reason for the outcome contains a character that cannot be saved."),
    },
}


def check_text(text: str, *, limit: int, what: str, field_name: str) -> str:
    """The text, if it can be stored: not blank, within ``limit``, encodable; else InvalidInput
    with the sentence for ``what`` (a key of :data:`TEXT_PROBLEMS`)."""
    problem = None
    if not text.strip():
        problem = "empty"
    elif len(text) > limit:
        problem = "long"
    elif "\x00" in text or not encodable(text):
        problem = "unsavable"
    if problem:
        sentence = TEXT_PROBLEMS.get(what, TEXT_PROBLEMS["text"])[problem]
        raise InvalidInput(sentence, field=field_name, count=len(text), limit=limit)
    return text


def encodable(text: str) -> bool:
    """False for text with a lone surrogate (JSON allows "\\ud800"; UTF-8 does not)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


async def next_seq(session: AsyncSession, case_id: str) -> int:
    """Reserve the next entry number of a case (row-locks the case until commit)."""
    connection = await session.connection()
    result = await connection.execute(
        text('UPDATE "case" SET next_seq = next_seq + 1 WHERE id = :id RETURNING next_seq'),
        {"id": case_id},
    )
    return int(result.scalar_one()) - 1


def entry_values(
    keys: crypto.KeyEpochs,
    *,
    case_id: str,
    seq: int,
    kind: EntryKind,
    author: Author,
    on: date,
    body: str,
    staff_id: str | None = None,
) -> dict[str, Any]:
    """An entry's columns, its body encrypted for the case (under its newest key) and bound to
    the entry's id.

    ``seq`` is the entry's place in the case (from :func:`next_seq`): it is stored only
    encrypted (``position``); the ``seq`` column gets a random number, which orders nothing.
    """
    entry_id = new_id()
    data_key = keys.latest
    return {
        "id": entry_id,
        "case_id": case_id,
        "seq": secrets.randbelow(2**31),
        "position": crypto.encrypt_field(
            data_key,
            seq.to_bytes(POSITION_BYTES, "big"),
            case_id=case_id,
            field=position_field(entry_id),
        ),
        "kind": kind,
        "author": author,
        "on": on,
        "staff_id": staff_id,
        "body": crypto.encrypt_field(
            data_key, body.encode("utf-8"), case_id=case_id, field=entry_field(kind, entry_id)
        ),
        "epoch": keys.current,
    }


def encrypted_entry(
    keys: crypto.KeyEpochs,
    *,
    case_id: str,
    seq: int,
    kind: EntryKind,
    author: Author,
    on: date,
    body: str,
    staff_id: str | None = None,
) -> Entry:
    """The same as :func:`entry_values`, as a model object for the ORM."""
    return Entry(
        **entry_values(
            keys,
            case_id=case_id,
            seq=seq,
            kind=kind,
            author=author,
            on=on,
            body=body,
            staff_id=staff_id,
        )
    )


POSITION_BYTES = 8  # every position encrypts to the same length


def position_field(entry_id: str) -> str:
    """The field an entry's encrypted position is bound to."""
    return f"position:{entry_id}"


class Placed(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def case_id(self) -> str: ...
    @property
    def seq(self) -> int: ...
    @property
    def position(self) -> bytes | None: ...
    @property
    def epoch(self) -> int: ...


def entry_position(keys: crypto.KeyEpochs, entry: Placed) -> int:
    """An entry's place in its case: decrypted, or its ``seq`` for an entry written before
    positions were encrypted (migration 0010)."""
    if entry.position is None:
        return entry.seq
    plain = keys.fields(entry.epoch).decrypt(
        entry.position, case_id=entry.case_id, field=position_field(entry.id)
    )
    return int.from_bytes(plain, "big")


_Row = TypeVar("_Row", bound=Placed)


def placed(keys: crypto.KeyEpochs, entries: Iterable[_Row]) -> list[tuple[int, _Row]]:
    """A case's entries with their places, in the order they were written (the stored rows'
    order tells nothing); each place is decrypted once."""
    return sorted(
        ((entry_position(keys, entry), entry) for entry in entries), key=lambda pair: pair[0]
    )


def in_order(keys: crypto.KeyEpochs, entries: Iterable[_Row]) -> list[_Row]:
    return [entry for _, entry in placed(keys, entries)]


def decrypt_entry(keys: crypto.KeyEpochs, entry: Entry) -> str:
    """An entry's text (``entry`` is an Entry, or a row with its columns)."""
    return (
        keys.fields(entry.epoch)
        .decrypt(
            entry.body, case_id=entry.case_id, field=entry_field(EntryKind(entry.kind), entry.id)
        )
        .decode("utf-8")
    )


# The exclusion list is padded to this many bytes before it is encrypted, so its ciphertext has
# the same length for none, one or many people excluded. A JSON list of staff ids (32
# characters, quoted, comma-separated) takes 36 bytes an id: room for 113. A longer list (never
# offered in practice) is padded to the next multiple, so it shows only that it is that long.
EXCLUSIONS_PADDED = 4096


def encrypt_exclusions(data_key: bytes, case_id: str, staff_ids: tuple[str, ...]) -> bytes:
    """Whom the reporter excluded, padded with spaces to a fixed length (JSON ignores them) and
    encrypted; written for every case, so not even "none" differs from "some"."""
    plain = json.dumps(sorted(staff_ids)).encode()
    size = max(1, -(-len(plain) // EXCLUSIONS_PADDED)) * EXCLUSIONS_PADDED
    return crypto.encrypt_field(
        data_key, plain.ljust(size, b" "), case_id=case_id, field=EXCLUSIONS_FIELD
    )


def decrypt_exclusions(keys: crypto.KeyEpochs, case: Case) -> set[str]:
    """The staff ids the reporter excluded from the case (written with its first key)."""
    if case.exclusions is None:
        return set()
    plain = crypto.decrypt_field(
        keys.of(crypto.FIRST_EPOCH), case.exclusions, case_id=case.id, field=EXCLUSIONS_FIELD
    )
    return set(json.loads(plain))


REPORTER_PUBLIC_FIELD = "reporter-public"


def encrypt_reporter_public(data_key: bytes, case_id: str, public: bytes) -> bytes:
    """The reporter's public key, sealed with the case's first key: only someone holding the
    case can read it, and no one without the key can put another in its place."""
    return crypto.encrypt_field(data_key, public, case_id=case_id, field=REPORTER_PUBLIC_FIELD)


def decrypt_reporter_public(keys: crypto.KeyEpochs, case: Case) -> bytes | None:
    """The reporter's public key, for a case filed since the reporter became a recipient."""
    if case.reporter_public is None:
        return None
    return crypto.decrypt_field(
        keys.of(crypto.FIRST_EPOCH),
        case.reporter_public,
        case_id=case.id,
        field=REPORTER_PUBLIC_FIELD,
    )
