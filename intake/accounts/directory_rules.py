"""The recipient directory's rules: what an entry says, who must sign it, and its verification.

The directory is an append-only, hash-chained list of signed entries; replayed from the start it
gives every fact that decides who may receive or be granted a case: each group, each group's
recovery public key, and each staff member's encryption and signing public keys, group, role,
active state and the exclusion label reporters see. This module is pure (no database, no web):
:func:`replay` checks the chain link by link and each entry's signatures against the rule the
state *before* the entry names, and returns the verified state or says which entry fails and why.

The rules (SECURITY.md, "Recipient directory"):

- a group, a group's recovery key, or the audit log's checkpoint signing key:
  the office root key (made offline at the key ceremony; its
  public half is pinned outside the database);
- a member who is or becomes an officer, or any change of a member's group, role, label or keys
  in group G: two active officers of G other than the member (the two-person rule), or the root
  where G has fewer than two such officers (bootstrap);
- an investigator, administrator or identity custodian: the administrator who proposed it and
  one active officer of the group (other than the member), or the root where the group has no
  such officer;
- retiring a member (``active`` false): one active officer of the group or an administrator who
  is not the member, or the root: taking access away never needs two people, and any later
  return needs the full rule again.

The root may always sign in place of the people a rule names. Labels are unique among active
members; an entry naming a group that has not been declared is refused.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import crypto

ROOT = "root"
"""The signer id of the office root key."""

GENESIS = bytes(32)
"""The ``previous`` hash of the first entry."""

SIGNATURE_PURPOSE = "directory-entry"

EntryKind = Literal["group", "recovery", "member", "audit"]
RECEIVING_ROLE = "officer"
ROLES = ("officer", "investigator", "admin", "custodian")


class DirectoryInvalid(Exception):
    """An entry fails verification. ``position`` is its index (0-based); the message says why."""

    def __init__(self, position: int, reason: str) -> None:
        super().__init__(f"entry {position + 1}: {reason}")
        self.position = position
        self.reason = reason


class NotEnoughSignatures(DirectoryInvalid):
    """The entry's signatures are valid but fewer than its rule names (a change still pending)."""


@dataclass(frozen=True)
class Member:
    """One staff member as the directory knows them."""

    staff_id: str
    group: str
    role: str
    active: bool
    label: str | None
    encryption_public: bytes
    signing_public: bytes


@dataclass(frozen=True)
class Recovery:
    """A group's recovery public key and who holds its shares (roles, never names)."""

    group: str
    public: bytes
    threshold: int
    custodians: tuple[str, ...]


@dataclass
class DirectoryState:
    """What the verified directory says, after replaying every entry."""

    groups: dict[str, str] = field(default_factory=dict)  # id -> display name
    recovery: dict[str, Recovery] = field(default_factory=dict)
    # Each group's recovery keys the directory declared before the one in force, oldest first:
    # the cases filed while one was in force are sealed to it, and its shares still open them.
    former_recovery: dict[str, list[Recovery]] = field(default_factory=dict)
    members: dict[str, Member] = field(default_factory=dict)
    # The public half of the key that signs the audit log's checkpoints, once the root vouched
    # for it (intake/operations/audit.py verifies checkpoints with it).
    audit_public: bytes | None = None
    head: bytes = GENESIS
    count: int = 0
    head_previous: bytes = GENESIS  # the newest entry's link, to recognise the head cheaply

    def officers(self, group: str, *, besides: str | None = None) -> list[Member]:
        return [
            m
            for m in self.members.values()
            if m.active and m.role == RECEIVING_ROLE and m.group == group and m.staff_id != besides
        ]

    def recovery_keys(self, group: str) -> list[Recovery]:
        """Every recovery key the directory declared for ``group``: the one in force first."""
        current = [self.recovery[group]] if group in self.recovery else []
        return current + list(reversed(self.former_recovery.get(group, [])))

    def signing_key(self, signer: str) -> bytes | None:
        member = self.members.get(signer)
        return member.signing_public if member is not None and member.active else None


@dataclass(frozen=True)
class Entry:
    """One directory entry as stored: its body, who proposed it, and the signatures."""

    kind: EntryKind
    body: Mapping[str, Any]
    proposer: str
    previous: bytes
    signatures: Mapping[str, bytes]

    def signed_bytes(self) -> bytes:
        """What every signer signs: the entry without the signatures, chained to the one before."""
        return (
            canonical({"kind": self.kind, "body": dict(self.body), "proposer": self.proposer})
            + self.previous
        )

    def digest(self) -> bytes:
        return hashlib.sha256(b"quietline/directory/v1\x00" + self.signed_bytes()).digest()


def canonical(value: Mapping[str, Any]) -> bytes:
    """One spelling of a JSON object: sorted keys, no spaces, bytes as hex."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_hex).encode()


def _hex(value: object) -> str:
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"not JSON: {type(value).__name__}")


def sign_entry(entry: Entry, signer: str, private: bytes) -> Entry:
    """``entry`` with ``signer``'s signature added (``private`` is their Ed25519 key)."""
    signature = crypto.sign(private, entry.signed_bytes(), purpose=SIGNATURE_PURPOSE)
    return replace(entry, signatures={**entry.signatures, signer: signature})


def replay(entries: Iterable[Entry], *, root_public: bytes) -> DirectoryState:
    """Verify every entry in order and return the state they give.

    Raises :class:`DirectoryInvalid` for the first entry whose link, signatures or content fail.
    """
    state = DirectoryState()
    for entry in entries:
        _extend_in_place(state, entry, root_public)
    return state


def extend(state: DirectoryState, entry: Entry, *, root_public: bytes) -> DirectoryState:
    """The state after ``entry``, if it may follow ``state``; ``state`` itself is unchanged.

    Raises :class:`NotEnoughSignatures` while its signatures are valid but too few, and
    :class:`DirectoryInvalid` for anything else.
    """
    after = copy.deepcopy(state)
    _extend_in_place(after, entry, root_public)
    return after


def _extend_in_place(state: DirectoryState, entry: Entry, root_public: bytes) -> None:
    position = state.count
    if entry.previous != state.head:
        raise DirectoryInvalid(position, "its link to the entry before does not match")
    _check_signatures(state, entry, position, root_public)
    _apply(state, entry, position)
    state.head_previous = entry.previous
    state.head = entry.digest()
    state.count += 1


def required_signers(state: DirectoryState, entry: Entry) -> tuple[int, set[str]]:
    """How many of which signers the rule asks for, besides the root (which always suffices).

    Returns ``(needed, eligible)``: ``needed`` distinct valid signatures from ``eligible`` ids.
    ``needed == 0`` means only the root can sign this entry.
    """
    if entry.kind != "member":
        return 0, set()
    new = member_of_body(entry.body)
    old = state.members.get(new.staff_id)
    group = new.group
    officers = {m.staff_id for m in state.officers(group, besides=new.staff_id)}
    if old is not None and not new.active and _only_retired(old, new):
        admins = {
            m.staff_id
            for m in state.members.values()
            if m.active and m.role == "admin" and m.staff_id != new.staff_id
        }
        return 1, officers | admins
    if new.role == RECEIVING_ROLE or (old is not None and old.role == RECEIVING_ROLE):
        return (2, officers) if len(officers) >= 2 else (0, set())
    if not officers:
        return 0, set()
    # An investigator or administrator: one officer and the proposing administrator.
    return 2, officers | {entry.proposer}


@dataclass(frozen=True)
class Outstanding:
    """What a pending entry still needs, for the people asked to sign it.

    ``count`` more signatures from ``among``, and each of ``named`` (the proposing
    administrator); or, where ``root_only``, the office root key alone. ``signed`` are the
    eligible signers whose signatures on the entry are valid.
    """

    root_only: bool
    signed: frozenset[str] = frozenset()
    count: int = 0
    among: frozenset[str] = frozenset()
    named: frozenset[str] = frozenset()

    @property
    def eligible(self) -> frozenset[str]:
        """Who may still add a signature that counts."""
        if self.root_only:
            return frozenset()
        return ((self.among if self.count else frozenset()) | self.named) - self.signed


def outstanding(state: DirectoryState, entry: Entry) -> Outstanding:
    """Who has validly signed ``entry`` so far, and whose signatures its rule still needs."""
    needed, eligible = required_signers(state, entry)
    if needed == 0:
        return Outstanding(root_only=True)
    signed = {signer for signer, valid in _signatures_of(state, entry, eligible) if valid}
    if needed == 2 and _is_staff_role_entry(state, entry):
        proposer = state.members.get(entry.proposer)
        if proposer is None or not proposer.active or proposer.role != "admin":
            return Outstanding(root_only=True)
        officers = eligible - {entry.proposer}
        return Outstanding(
            root_only=False,
            signed=frozenset(signed),
            count=0 if signed & officers else 1,
            among=frozenset(officers),
            named=frozenset({entry.proposer} - signed),
        )
    return Outstanding(
        root_only=False,
        signed=frozenset(signed),
        count=max(0, needed - len(signed)),
        among=frozenset(eligible - signed),
    )


def _signatures_of(
    state: DirectoryState, entry: Entry, eligible: set[str]
) -> Iterator[tuple[str, bool]]:
    """Each signature of someone the rule names (an active member's key), and whether it
    verifies; others' signatures are passed over."""
    message = entry.signed_bytes()
    for signer, signature in entry.signatures.items():
        public = state.signing_key(signer)
        if signer not in eligible or public is None:
            continue
        try:
            crypto.verify(public, message, signature, purpose=SIGNATURE_PURPOSE)
        except crypto.SignatureError:
            yield signer, False
        else:
            yield signer, True


def _only_retired(old: Member, new: Member) -> bool:
    return replace(old, active=False) == new


def _check_signatures(state: DirectoryState, entry: Entry, position: int, root: bytes) -> None:
    message = entry.signed_bytes()
    root_signature = entry.signatures.get(ROOT)
    if root_signature is not None:
        try:
            crypto.verify(root, message, root_signature, purpose=SIGNATURE_PURPOSE)
        except crypto.SignatureError:
            raise DirectoryInvalid(position, "the root key's signature is not valid") from None
        return
    needed, eligible = required_signers(state, entry)
    if needed == 0:
        raise NotEnoughSignatures(position, "only the office root key may sign this entry")
    valid = set()
    for signer, is_valid in _signatures_of(state, entry, eligible):
        if not is_valid:
            raise DirectoryInvalid(position, f"the signature of {signer} is not valid")
        valid.add(signer)
    if len(valid) < needed:
        raise NotEnoughSignatures(
            position, f"it needs {needed} valid signatures from those its rule names"
        )
    if needed == 2 and _is_staff_role_entry(state, entry):
        # One of the two must be the proposing administrator, the other an officer.
        officers = {m.staff_id for m in state.officers(str(entry.body["group"]))}
        proposer = state.members.get(entry.proposer)
        is_admin = proposer is not None and proposer.active and proposer.role == "admin"
        if not is_admin or entry.proposer not in valid or not valid & officers:
            raise NotEnoughSignatures(
                position, "it needs the proposing administrator and an officer of the group"
            )


def _is_staff_role_entry(state: DirectoryState, entry: Entry) -> bool:
    new = member_of_body(entry.body)
    old = state.members.get(new.staff_id)
    return new.role != RECEIVING_ROLE and (old is None or old.role != RECEIVING_ROLE)


def _apply(state: DirectoryState, entry: Entry, position: int) -> None:
    body = entry.body
    try:
        if entry.kind == "group":
            state.groups[str(body["group"])] = str(body["name"])
        elif entry.kind == "recovery":
            group = str(body["group"])
            _require_group(state, group, position)
            declared = Recovery(
                group=group,
                public=bytes.fromhex(str(body["public"])),
                threshold=int(body["threshold"]),
                custodians=tuple(str(c) for c in body["custodians"]),
            )
            if group in state.recovery:
                state.former_recovery.setdefault(group, []).append(state.recovery[group])
            state.recovery[group] = declared
        elif entry.kind == "audit":
            public = bytes.fromhex(str(body["public"]))
            if len(public) != 32:
                raise ValueError("an Ed25519 public key is 32 bytes")
            state.audit_public = public
        elif entry.kind == "member":
            member = member_of_body(body)
            _require_group(state, member.group, position)
            if member.role not in ROLES:
                raise DirectoryInvalid(position, f"the role {member.role!r} does not exist")
            _require_unique_label(state, member, position)
            state.members[member.staff_id] = member
        else:
            raise DirectoryInvalid(position, f"the kind {entry.kind!r} does not exist")
    except (KeyError, ValueError, TypeError):
        raise DirectoryInvalid(position, "its content is malformed") from None


def _require_group(state: DirectoryState, group: str, position: int) -> None:
    if group not in state.groups:
        raise DirectoryInvalid(position, f"the group {group!r} has not been declared")


def _require_unique_label(state: DirectoryState, member: Member, position: int) -> None:
    if not member.active or member.label is None:
        return
    for other in state.members.values():
        if other.staff_id != member.staff_id and other.active and other.label == member.label:
            raise DirectoryInvalid(position, "its exclusion label is already another person's")


def member_of_body(body: Mapping[str, Any]) -> Member:
    """The member a ``member`` entry's body sets; KeyError, ValueError or TypeError if malformed."""
    label = body.get("label")
    return Member(
        staff_id=str(body["staff_id"]),
        group=str(body["group"]),
        role=str(body["role"]),
        active=bool(body["active"]),
        label=str(label) if label is not None else None,
        encryption_public=bytes.fromhex(str(body["encryption_public"])),
        signing_public=bytes.fromhex(str(body["signing_public"])),
    )


def member_body(member: Member) -> dict[str, Any]:
    """The body of a ``member`` entry that sets ``member``."""
    return {
        "staff_id": member.staff_id,
        "group": member.group,
        "role": member.role,
        "active": member.active,
        "label": member.label,
        "encryption_public": member.encryption_public.hex(),
        "signing_public": member.signing_public.hex(),
    }


def entry_as_json(entry: Entry) -> dict[str, Any]:
    """An entry as JSON, to carry from the offline ceremony to the server (and to show)."""
    return {
        "kind": entry.kind,
        "body": dict(entry.body),
        "proposer": entry.proposer,
        "previous": entry.previous.hex(),
        "signatures": {signer: sig.hex() for signer, sig in sorted(entry.signatures.items())},
    }


def entry_from_json(value: Any) -> Entry:
    """The inverse of :func:`entry_as_json`; ValueError for anything else."""
    try:
        signatures = {str(k): bytes.fromhex(str(v)) for k, v in value["signatures"].items()}
        entry = Entry(
            kind=str(value["kind"]),  # type: ignore[arg-type]
            body=dict(value["body"]),
            proposer=str(value["proposer"]),
            previous=bytes.fromhex(str(value["previous"])),
            signatures=signatures,
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        raise ValueError("not a directory entry") from None
    if entry.kind not in ("group", "recovery", "member", "audit"):
        raise ValueError("not a directory entry")
    return entry
