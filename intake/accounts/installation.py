"""Installing the key ceremony's output on the server: the root pinned, the directory begun.

The ceremony (:mod:`intake.accounts.ceremony`) runs offline and prints the root's and each
group's recovery public key and the root-signed genesis entries. Installing pins the root
outside the database (:func:`intake.datadir.pin_root_public`), checks that the genesis entries
are signed by that root and declare exactly the recovery keys given, and appends them as the
directory's first entries. Each group's recovery public key also gets a row that the sealed
copies of its cases refer to; routing uses a row only where its key is the one the verified
directory declares for the group (intake/casework/routing.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from intake import datadir
from intake.accounts import directory, keyring
from intake.accounts.directory_rules import ROOT, Entry
from intake.errors import InvalidInput
from intake.i18n import N_
from intake.operations import audit
from intake.runtime import Runtime
from intake.storage import db
from intake.storage.models import RecoveryKey


@dataclass(frozen=True)
class Installed:
    root_pinned: bool  # False: this root was pinned already
    entries_added: int  # 0: the directory began with these entries already
    recovery_rows_added: int  # recovery keys that had no row yet


def check_genesis(genesis: Sequence[Entry], *, recovery: Mapping[str, bytes]) -> None:
    """Refuse genesis entries that declare other recovery keys than ``recovery``, or a group
    that has none, or that anyone but the root signed."""
    declared: dict[str, bytes] = {}
    groups: set[str] = set()
    for entry in genesis:
        if entry.kind == "member" or set(entry.signatures) != {ROOT}:
            raise InvalidInput(N_("The ceremony's entries hold something besides groups and keys."))
        if entry.kind == "group":
            groups.add(str(entry.body.get("group")))
        else:
            try:
                declared[str(entry.body.get("group"))] = bytes.fromhex(
                    str(entry.body.get("public"))
                )
            except ValueError:
                raise InvalidInput(N_("The ceremony's entries are malformed.")) from None
    if declared != dict(recovery) or groups != set(recovery):
        raise InvalidInput(
            N_("The recovery keys given are not the ones the ceremony's entries declare.")
        )


async def install(
    runtime: Runtime,
    *,
    root_public: bytes,
    recovery: Mapping[str, bytes],
    genesis: Sequence[Entry],
) -> Installed:
    """Pin the root, begin the directory with ``genesis``; safe to run again with the same."""
    settings = runtime.settings
    missing = [g for g in (settings.default_group, settings.alternate_group) if g not in recovery]
    if missing:
        raise InvalidInput(
            N_("A recovery key is needed for the group %(group)s."), group=", ".join(missing)
        )
    check_genesis(genesis, recovery=recovery)
    for public in recovery.values():
        keyring.check_sealable(public)
    pinned = datadir.pin_root_public(settings, root_public)
    async with db.transaction(runtime.sessions) as session:
        added = await directory.install_genesis(session, list(genesis), root_public=root_public)
        rows = await add_recovery_rows(session, recovery.values())
        if added or rows:
            await audit.record(
                session,
                actor="cli",
                action="directory genesis installed",
                detail={"entries": added, "groups": sorted(recovery)},
            )
    return Installed(root_pinned=pinned, entries_added=added, recovery_rows_added=rows)


async def add_recovery_rows(session: AsyncSession, publics: Iterable[bytes]) -> int:
    """A ``recoverykey`` row for each public key that has none (the sealed copies refer to it);
    how many were added. A row alone receives nothing: routing seals only to the key the
    verified directory declares (a replacement adds its row when its entry applies)."""
    stored = set((await session.exec(select(RecoveryKey.public_key))).all())
    added = 0
    for public in publics:
        if public not in stored:
            session.add(RecoveryKey(public_key=public))
            stored.add(public)
            added += 1
    return added
