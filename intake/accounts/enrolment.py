"""A new staff account's recipient directory entry, proposed when the account is made.

The account exists at once, but it receives nothing through the directory until the entry has
the signatures its rule names (``quietline directory pending|approve``; SECURITY.md,
"Recipient directory").
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from intake.accounts import directory
from intake.accounts.directory_rules import DirectoryInvalid, Member, member_body
from intake.errors import InvalidInput
from intake.i18n import N_
from intake.storage.models import DirectoryChange, Staff


def member_of(staff: Staff) -> Member:
    """The directory's view of a staff row that has a signing key."""
    if staff.signing_public is None:
        raise InvalidInput(
            N_("This account has no signing key yet: it cannot be entered in the directory.")
        )
    return Member(
        staff_id=staff.id,
        group=staff.group_name,
        role=staff.role,
        active=staff.active,
        label=staff.exclusion_label,
        encryption_public=staff.public_key,
        signing_public=staff.signing_public,
    )


async def propose_member(
    session: AsyncSession, staff: Staff, *, root_public: bytes, proposer: str
) -> DirectoryChange:
    """Propose ``staff``'s member entry (in ``session``'s transaction).

    Refused, adding nothing, while the stored directory does not verify: a change proposed
    against a broken chain could never be signed.
    """
    try:
        return await directory.propose(
            session,
            root_public=root_public,
            kind="member",
            body=member_body(member_of(staff)),
            proposer=proposer,
        )
    except DirectoryInvalid as problem:
        raise InvalidInput(
            N_(
                "The recipient directory does not verify (%(reason)s), so no account was "
                "added: run 'quietline directory verify'."
            ),
            reason=str(problem),
        ) from None
