"""The key ceremony: the office root key and each group's recovery key, split among custodians.

Meant to run offline (``quietline keys ceremony --offline``): it makes the keys, splits each
private half into SLIP-39 shares (:func:`crypto.split_secret`) for the custodians, and returns
the public halves and the shares. Nothing is stored: the public halves are carried to the server
and installed, the shares are handed out, and the private keys are gone when the process ends.

While the root's private key still exists whole, the ceremony also signs the directory's
*genesis*: the first entries, declaring each group and its recovery key. The server cannot sign
them (it never holds the root key), so ``quietline keys install`` carries them in and appends
them after verifying them against the root public key it pins.

Custodians are named by role (``"clerk"``, ``"auditor"``), never by name: the directory records
the roles, so the reporter guidance can say truthfully who could open a report together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import crypto
from intake.accounts import keyring
from intake.accounts.directory_rules import GENESIS, ROOT, Entry, sign_entry

DEFAULT_THRESHOLD = 2
DEFAULT_CUSTODIANS = 3


class CeremonyRefused(ValueError):
    """The custodian plan would let one party open what the routing keeps from it."""


@dataclass(frozen=True)
class CustodianPlan:
    """Who holds the shares of one key: a role for each share, and how many open it."""

    roles: tuple[str, ...]
    threshold: int

    def __post_init__(self) -> None:
        if not 2 <= self.threshold <= len(self.roles) <= crypto.MAX_SHARES:
            raise ValueError(
                f"a custodian plan needs 2 <= threshold <= custodians <= {crypto.MAX_SHARES}"
            )
        if any(not role.strip() for role in self.roles):
            raise ValueError("every custodian needs a role")

    @classmethod
    def numbered(cls, count: int, threshold: int, prefix: str) -> CustodianPlan:
        """Custodians ``prefix-1`` .. ``prefix-N``, when no roles are given."""
        return cls(tuple(f"{prefix}-{n}" for n in range(1, count + 1)), threshold)


@dataclass(frozen=True, repr=False)
class SplitKey:
    """A public key and the shares of its private half (``repr`` shows neither share)."""

    public: bytes
    shares: tuple[str, ...]
    plan: CustodianPlan

    def __repr__(self) -> str:
        return f"SplitKey(public={format_public(self.public)!r}, shares=<{len(self.shares)}>)"


@dataclass(frozen=True)
class CeremonyResult:
    root: SplitKey
    recovery: Mapping[str, SplitKey]
    genesis: tuple[Entry, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """``{"root", "recovery": {group: public}, "shares": {group: [...], "root": [...]}}``."""
        return {
            "root": format_public(self.root.public),
            "recovery": {group: format_public(key.public) for group, key in self.recovery.items()},
            "custodians": {
                "root": list(self.root.plan.roles),
                **{group: list(key.plan.roles) for group, key in self.recovery.items()},
            },
            "threshold": {
                "root": self.root.plan.threshold,
                **{group: key.plan.threshold for group, key in self.recovery.items()},
            },
            "shares": {
                "root": list(self.root.shares),
                **{group: list(key.shares) for group, key in self.recovery.items()},
            },
        }


def format_public(public: bytes) -> str:
    """A public key to carry by hand, written as the recovery key always was."""
    return keyring.key_as_text(public)


def parse_public(text: str) -> bytes:
    """The inverse of :func:`format_public`; ValueError for anything that is not 32 bytes."""
    return keyring.key_from_text(text)


def check_custodians(
    plans: Mapping[str, CustodianPlan], *, default_group: str, alternate_group: str
) -> None:
    """Refuse a plan where the default group's custodians could open the alternate group's key.

    A report about the default group (the solicitor's office) goes to the alternate group; if
    custodians who also hold the default group's shares are enough for the alternate key, that
    office could open reports about itself.
    """
    default, alternate = plans.get(default_group), plans.get(alternate_group)
    if default is None or alternate is None:
        return
    shared = [role for role in alternate.roles if role in set(default.roles)]
    if len(shared) >= alternate.threshold:
        raise CeremonyRefused(
            f"the custodians of {default_group} ({', '.join(shared)}) would be enough to open "
            f"{alternate_group}'s recovery key: choose other custodians for {alternate_group}"
        )


def run_ceremony(
    groups: Sequence[str],
    plans: Mapping[str, CustodianPlan],
    root_plan: CustodianPlan,
    *,
    default_group: str,
    alternate_group: str,
) -> CeremonyResult:
    """New root and recovery keys, each split by its plan. Stores nothing."""
    missing = [group for group in groups if group not in plans]
    if missing:
        raise ValueError(f"no custodian plan for {', '.join(missing)}")
    check_custodians(plans, default_group=default_group, alternate_group=alternate_group)
    root = crypto.generate_signing_keypair()
    recovery: dict[str, SplitKey] = {}
    for group in groups:
        pair = crypto.generate_keypair()
        plan = plans[group]
        shares = crypto.split_secret(pair.private, threshold=plan.threshold, shares=len(plan.roles))
        recovery[group] = SplitKey(public=pair.public, shares=tuple(shares), plan=plan)
    root_shares = crypto.split_secret(
        root.private, threshold=root_plan.threshold, shares=len(root_plan.roles)
    )
    return CeremonyResult(
        root=SplitKey(public=root.public, shares=tuple(root_shares), plan=root_plan),
        recovery=recovery,
        genesis=genesis_entries(root.private, recovery),
    )


def genesis_entries(root_private: bytes, recovery: Mapping[str, SplitKey]) -> tuple[Entry, ...]:
    """The directory's first entries, signed by the root: each group, then its recovery key."""
    bodies: list[tuple[str, dict[str, Any]]] = [
        ("group", {"group": group, "name": group}) for group in recovery
    ]
    bodies += [
        (
            "recovery",
            {
                "group": group,
                "public": key.public.hex(),
                "threshold": key.plan.threshold,
                "custodians": list(key.plan.roles),
            },
        )
        for group, key in recovery.items()
    ]
    entries: list[Entry] = []
    previous = GENESIS
    for kind, body in bodies:
        entry = Entry(kind=kind, body=body, proposer=ROOT, previous=previous, signatures={})  # type: ignore[arg-type]
        entry = sign_entry(entry, ROOT, root_private)
        entries.append(entry)
        previous = entry.digest()
    return tuple(entries)
