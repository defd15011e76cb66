"""Key epochs: after someone loses access to a case, what is written next is under a new key.

Removing a holder (revoking a grant, disabling or resetting their account, a directory change
that no longer lets them hold the case) deletes their copies at once and marks the case
``rekey_due``. The next person who writes to the case (a staff member or the reporter) holds its
keys, so before writing they start a new epoch: a new random key, and every epoch's key sealed
again to each remaining holder the verified directory vouches for, to the case group's recovery
key as the directory declares it, and to the reporter's public key (kept encrypted with the
case's first key, so no database writer can put theirs in its place). A removed person with an
old copy of the database and their password opens only the epochs before their removal.

Nothing is re-encrypted: older entries stay under the keys of their epochs, which every holder
still has.
"""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

import crypto
from intake.accounts import keyring, trusted
from intake.accounts.directory_rules import DirectoryState
from intake.casework import records, routing
from intake.runtime import Runtime
from intake.storage.models import Case, CaseKey, RecoveryKey, Staff

REPORTER_KEYS_PURPOSE = "reporter-keys"


async def keys_for_writing(
    session: AsyncSession, runtime: Runtime, case: Case, keys: crypto.KeyEpochs
) -> crypto.KeyEpochs:
    """The keys to write to ``case`` with: a new epoch first where someone lost access since
    the current one began (in ``session``'s transaction, the case row locked by the caller)."""
    if not case.rekey_due:
        return keys
    state = await trusted.directory_state(session, runtime)
    if state is None:
        routing.refuse_not_set_up()
    return await start_epoch(session, state, case, keys)


async def start_epoch(
    session: AsyncSession, state: DirectoryState, case: Case, keys: crypto.KeyEpochs
) -> crypto.KeyEpochs:
    """Give ``case`` a new epoch and seal every epoch's key to whoever may still hold it."""
    advanced = keys.advanced(crypto.new_data_key())
    packed = advanced.pack()
    copies = list((await session.exec(select(CaseKey).where(CaseKey.case_id == case.id))).all())
    staff_ids = [copy.staff_id for copy in copies if copy.staff_id is not None]
    people = {
        person.id: person
        for person in (await session.exec(select(Staff).where(col(Staff.id).in_(staff_ids)))).all()
    }
    declared = state.recovery.get(case.group_name)
    resealed_recovery = False
    for copy in copies:
        if copy.staff_id is not None:
            public = _vouched_key(state, people.get(copy.staff_id))
            if public is None:
                await session.delete(copy)  # no longer vouched for: no key of the new epoch
                continue
            copy.sealed = _seal(packed, public, case.id)
        else:
            row = await session.get(RecoveryKey, copy.recovery_key_id)
            if row is None or declared is None or row.public_key != declared.public:
                continue  # a replaced recovery key keeps the epochs it had
            copy.sealed = _seal(packed, declared.public, case.id)
            resealed_recovery = True
        session.add(copy)
    if not resealed_recovery and declared is not None:
        await _add_recovery_copy(session, case, declared.public, packed)
    reporter_public = records.decrypt_reporter_public(keys, case)
    if reporter_public is not None:
        case.reporter_sealed = crypto.seal(
            packed, reporter_public, case_id=case.id, purpose=REPORTER_KEYS_PURPOSE
        )
    case.epoch = advanced.current
    case.rekey_due = False
    session.add(case)
    return advanced


def _vouched_key(state: DirectoryState, person: Staff | None) -> bytes | None:
    if person is None or not person.active:
        return None
    member = state.members.get(person.id)
    if member is None or not member.active or trusted.disagreement(member, person) is not None:
        return None
    return member.encryption_public


def _seal(packed: bytes, public: bytes, case_id: str) -> bytes:
    return crypto.seal(packed, public, case_id=case_id, purpose=keyring.CASE_KEY_PURPOSE)


async def _add_recovery_copy(
    session: AsyncSession, case: Case, public: bytes, packed: bytes
) -> None:
    """A copy for the group's current recovery key, where the case had none (it was replaced)."""
    row = (await session.exec(select(RecoveryKey).where(RecoveryKey.public_key == public))).first()
    if row is None:
        return
    session.add(
        CaseKey(
            case_id=case.id,
            recovery_key_id=row.id,
            received_on=case.received_on,
            sealed=_seal(packed, public, case.id),
        )
    )
