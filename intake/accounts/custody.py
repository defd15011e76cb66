"""Recovery custody: a group's recovery key, put together from its custodians' shares, and
replaced only through the recipient directory.

Each group's recovery private key exists only as SLIP-39 shares held by custodians (the key
ceremony, :mod:`intake.accounts.ceremony`). Every recovery operation reads k of them and
:func:`open_recovery_key` puts the key together in this process only, then checks it against
the keys the *verified* directory declares for the group (the one in force, or an earlier one
whose cases are still sealed to it): shares of another group's key, of a key someone wrote into
the database, too few shares or a mistyped word are refused before anything is opened.

A group's recovery key changes only by a directory entry that the office root signs
(:func:`propose_recovery`): ``quietline keys recovery`` proposes, ``quietline directory
approve --root-shares-stdin`` applies. Until then new reports stay sealed to the key in force.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlmodel.ext.asyncio.session import AsyncSession

import crypto
from intake.accounts import directory, keyring, membership
from intake.accounts.ceremony import CeremonyRefused, CustodianPlan, check_custodians
from intake.accounts.directory_rules import DirectoryInvalid, DirectoryState, Recovery
from intake.errors import InvalidInput
from intake.i18n import N_
from intake.runtime import Runtime
from intake.storage.models import DirectoryChange

NO_DIRECTORY = N_(
    "The recipient directory is not set up or does not verify, so no recovery key can be "
    "checked against it: run 'quietline directory verify'."
)


PRIVATE_KEY_BYTES = 32  # an X25519 private key; shares of anything else open no recovery key


class NotThisGroupsKey(InvalidInput):
    """The shares put a key together, but not one the directory declares for the group."""


@dataclass(frozen=True, repr=False)
class OpenedRecovery:
    """A group's recovery key, put together from shares: held in memory for one operation."""

    group: str
    declared: Recovery
    current: bool  # the key in force (else an earlier key of the group)
    private: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"OpenedRecovery(group={self.group!r}, current={self.current})"


def shares_from_text(text: str) -> list[str]:
    """One share a line; blank lines ignored."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def _combine(shares: Iterable[str]) -> bytes:
    try:
        return crypto.combine_shares(shares)
    except crypto.ShareError as error:
        reason = str(error)
        if reason.startswith("No recovery share"):
            raise InvalidInput(
                N_("No recovery share was given: give k shares, one a line.")
            ) from None
        if reason.startswith("Too few"):
            raise InvalidInput(
                N_("Too few recovery shares: more custodians must give theirs.")
            ) from None
        if "mistyped" in reason:
            raise InvalidInput(
                N_("A recovery share is mistyped: check each word against the custodian's copy.")
            ) from None
        raise InvalidInput(N_("These recovery shares do not belong together.")) from None


def open_recovery_key(
    state: DirectoryState | None, group: str, shares: Iterable[str]
) -> OpenedRecovery:
    """The recovery key of ``group`` from its custodians' shares, checked against the verified
    directory; InvalidInput for too few, mistyped or mixed shares, :class:`NotThisGroupsKey`
    for shares of any other key."""
    if state is None:
        raise InvalidInput(NO_DIRECTORY)
    declared = state.recovery_keys(group)
    if not declared:
        raise InvalidInput(
            N_("The recipient directory declares no recovery key for the group %(group)s."),
            group=group,
        )
    private = _combine(shares)
    public = crypto.public_key_of(private) if len(private) == PRIVATE_KEY_BYTES else b""
    for number, key in enumerate(declared):
        if key.public == public:
            return OpenedRecovery(group=group, declared=key, current=number == 0, private=private)
    raise NotThisGroupsKey(
        N_(
            "These shares put a key together, but not a recovery key of the group %(group)s: "
            "nothing was opened."
        ),
        group=group,
    )


def plan_of(recovery: Recovery) -> CustodianPlan:
    return CustodianPlan(recovery.custodians, recovery.threshold)


async def propose_recovery(
    session: AsyncSession,
    runtime: Runtime,
    *,
    group: str,
    public: bytes,
    plan: CustodianPlan,
    replace: bool,
    proposer: str,
) -> DirectoryChange:
    """Propose ``public`` as ``group``'s recovery key, its shares held by ``plan``'s roles.

    Refused where the group has a key already and ``replace`` is not asked for (the shares in
    the custodians' hands would stop opening new reports), where the key is the one in force or
    cannot be sealed to, and where the other receiving group's custodians could complete the
    plan on their own. Only the office root can sign it (intake/accounts/directory_rules.py).
    """
    root = membership.pinned_root(runtime)
    try:
        state = await directory.verified_state(session, root_public=root)
    except DirectoryInvalid:
        raise InvalidInput(NO_DIRECTORY) from None
    membership.require_declared_group(state, group)
    keyring.check_sealable(public)
    current = state.recovery.get(group)
    if current is not None and current.public == public:
        raise InvalidInput(
            N_("This is the recovery key of the group %(group)s already."), group=group
        )
    if current is not None and not replace:
        raise InvalidInput(
            N_(
                "The group %(group)s has a recovery key already: a new one would stop new "
                "reports from being sealed to the key its custodians hold. Ask for the "
                "replacement on purpose (--replace)."
            ),
            group=group,
        )
    plans = {other: plan_of(key) for other, key in state.recovery.items() if other != group}
    plans[group] = plan
    settings = runtime.settings
    try:
        check_custodians(
            plans, default_group=settings.default_group, alternate_group=settings.alternate_group
        )
    except CeremonyRefused as refused:
        raise InvalidInput(
            N_("This custodian plan is refused: %(reason)s."), reason=str(refused)
        ) from None
    body = {
        "group": group,
        "public": public.hex(),
        "threshold": plan.threshold,
        "custodians": list(plan.roles),
    }
    return await directory.propose(
        session, root_public=root, kind="recovery", body=body, proposer=proposer
    )
