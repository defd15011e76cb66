"""The recipient directory's rules, replayed over entries built here (no database)."""

from __future__ import annotations

from dataclasses import replace

import pytest

import crypto
from intake.accounts.directory_rules import (
    GENESIS,
    ROOT,
    DirectoryInvalid,
    Entry,
    Member,
    member_body,
    outstanding,
    replay,
    sign_entry,
)

ROOT_KEY = crypto.generate_signing_keypair()


class Person:
    def __init__(self, staff_id: str, group: str, role: str, label: str | None = None) -> None:
        self.signing = crypto.generate_signing_keypair()
        self.member = Member(
            staff_id=staff_id,
            group=group,
            role=role,
            active=True,
            label=label,
            encryption_public=crypto.generate_keypair().public,
            signing_public=self.signing.public,
        )


class Log:
    """Entries appended in order, each chained to the one before."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []

    def head(self) -> bytes:
        return self.entries[-1].digest() if self.entries else GENESIS

    def add(self, kind: str, body: dict, *, proposer: str, signers: list) -> Entry:
        entry = Entry(kind=kind, body=body, proposer=proposer, previous=self.head(), signatures={})  # type: ignore[arg-type]
        for signer in signers:
            if signer == ROOT:
                entry = sign_entry(entry, ROOT, ROOT_KEY.private)
            else:
                entry = sign_entry(entry, signer.member.staff_id, signer.signing.private)
        self.entries.append(entry)
        return entry

    def member(self, member: Member, *, proposer: str = ROOT, signers: list) -> Entry:
        return self.add("member", member_body(member), proposer=proposer, signers=signers)

    def state(self):
        return replay(self.entries, root_public=ROOT_KEY.public)


@pytest.fixture
def office() -> tuple[Log, dict[str, Person]]:
    log = Log()
    log.add(
        "group", {"group": "solicitor", "name": "Solicitor's office"}, proposer=ROOT, signers=[ROOT]
    )
    log.add("group", {"group": "alternate", "name": "City manager"}, proposer=ROOT, signers=[ROOT])
    people = {
        "olivia": Person("olivia", "solicitor", "officer", "Olivia"),
        "sam": Person("sam", "solicitor", "officer", "Sam"),
        "alex": Person("alex", "alternate", "officer"),
        "ada": Person("ada", "solicitor", "admin"),
    }
    # Bootstrap: fewer than two officers in a group, so the root signs.
    for name in ("olivia", "sam", "alex", "ada"):
        log.member(people[name].member, signers=[ROOT])
    return log, people


def test_a_bootstrapped_office_verifies(office) -> None:
    log, people = office
    state = log.state()
    assert set(state.groups) == {"solicitor", "alternate"}
    assert [m.staff_id for m in state.officers("solicitor")] == ["olivia", "sam"]
    assert state.count == 6 and state.head == log.head()


def test_a_new_officer_takes_two_officers_of_the_group(office) -> None:
    log, people = office
    rita = Person("rita", "solicitor", "officer", "Rita")
    log.member(rita.member, proposer="ada", signers=[people["olivia"], people["sam"]])
    assert "rita" in log.state().members


def test_an_administrator_alone_cannot_add_an_officer(office) -> None:
    log, people = office
    mallory = Person("mallory", "solicitor", "officer")
    log.member(mallory.member, proposer="ada", signers=[people["ada"]])
    with pytest.raises(DirectoryInvalid, match="entry 7: it needs 2 valid signatures"):
        log.state()


def test_one_officer_and_the_administrator_are_not_two_officers(office) -> None:
    log, people = office
    mallory = Person("mallory", "solicitor", "officer")
    log.member(mallory.member, proposer="ada", signers=[people["ada"], people["olivia"]])
    with pytest.raises(DirectoryInvalid, match="needs 2 valid signatures"):
        log.state()


def test_an_officer_cannot_approve_their_own_change(office) -> None:
    log, people = office
    olivia, sam = people["olivia"], people["sam"]
    rita = Person("rita", "solicitor", "officer", "Rita")
    log.member(rita.member, proposer="ada", signers=[olivia, sam])
    log.member(replace(olivia.member, label="Someone else"), proposer="ada", signers=[olivia, sam])
    with pytest.raises(DirectoryInvalid, match="entry 8: it needs 2 valid signatures"):
        log.state()


def test_swapping_labels_takes_two_officers(office) -> None:
    log, people = office
    olivia = people["olivia"]
    log.member(replace(olivia.member, label="Sam"), proposer="ada", signers=[people["ada"]])
    with pytest.raises(DirectoryInvalid, match="entry 7"):
        log.state()


def test_labels_are_unique(office) -> None:
    log, people = office
    rita = Person("rita", "solicitor", "officer", "Olivia")
    log.member(rita.member, proposer="ada", signers=[people["olivia"], people["sam"]])
    with pytest.raises(DirectoryInvalid, match="already another person's"):
        log.state()


def test_moving_an_officer_to_the_other_group_needs_that_groups_officers(office) -> None:
    log, people = office
    olivia = people["olivia"]
    # The alternate group has one officer besides her: only the root can sign.
    log.member(
        replace(olivia.member, group="alternate"),
        proposer="ada",
        signers=[people["alex"], people["sam"]],
    )
    with pytest.raises(DirectoryInvalid, match="only the office root key"):
        log.state()


def test_an_investigator_takes_the_proposing_administrator_and_an_officer(office) -> None:
    log, people = office
    ivy = Person("ivy", "solicitor", "investigator")
    log.member(ivy.member, proposer="ada", signers=[people["ada"], people["olivia"]])
    assert log.state().members["ivy"].role == "investigator"


def test_two_officers_without_the_administrator_do_not_add_an_investigator(office) -> None:
    log, people = office
    ivy = Person("ivy", "solicitor", "investigator")
    log.member(ivy.member, proposer="ada", signers=[people["olivia"], people["sam"]])
    with pytest.raises(DirectoryInvalid, match="proposing administrator"):
        log.state()


def test_an_identity_custodian_takes_the_proposing_administrator_and_an_officer(office) -> None:
    """Named like other recipients: the administrator alone, or with a second administrator's
    help, cannot make one; the administrator and an officer of the group can."""
    log, people = office
    cora = Person("cora", "solicitor", "custodian")
    log.member(cora.member, proposer="ada", signers=[people["ada"]])
    with pytest.raises(DirectoryInvalid):
        log.state()


def test_an_identity_custodian_is_a_role_of_the_directory(office) -> None:
    log, people = office
    cora = Person("cora", "solicitor", "custodian")
    log.member(cora.member, proposer="ada", signers=[people["ada"], people["olivia"]])
    assert log.state().members["cora"].role == "custodian"


def test_retiring_takes_one_other_person(office) -> None:
    log, people = office
    olivia = people["olivia"]
    log.member(replace(olivia.member, active=False), proposer="ada", signers=[people["ada"]])
    state = log.state()
    assert not state.members["olivia"].active
    assert [m.staff_id for m in state.officers("solicitor")] == ["sam"]


def test_groups_and_recovery_keys_are_the_roots_alone(office) -> None:
    log, people = office
    recovery = {
        "group": "solicitor",
        "public": crypto.generate_keypair().public.hex(),
        "threshold": 2,
        "custodians": ["clerk", "auditor", "mayor"],
    }
    log.add("recovery", recovery, proposer="ada", signers=[people["olivia"], people["sam"]])
    with pytest.raises(DirectoryInvalid, match="only the office root key"):
        log.state()


def test_an_undeclared_group_is_refused(office) -> None:
    log, _ = office
    log.member(Person("x", "solicitr", "officer").member, signers=[ROOT])
    with pytest.raises(DirectoryInvalid, match="has not been declared"):
        log.state()


def test_a_rewritten_entry_breaks_the_chain_and_is_named(office) -> None:
    log, people = office
    entries = log.entries
    forged = replace(entries[3], body={**entries[3].body, "label": "Forged"})
    with pytest.raises(DirectoryInvalid, match="entry 4: the root key's signature is not valid"):
        replay([*entries[:3], forged, *entries[4:]], root_public=ROOT_KEY.public)
    with pytest.raises(DirectoryInvalid, match="entry 4: its link"):
        replay([*entries[:3], *entries[4:]], root_public=ROOT_KEY.public)


def test_another_root_key_verifies_nothing(office) -> None:
    log, _ = office
    with pytest.raises(DirectoryInvalid, match="entry 1: the root key's signature"):
        replay(log.entries, root_public=crypto.generate_signing_keypair().public)


# --- what a pending entry still needs (the Directory changes page) ----------------------------


def _pending(log: Log, member: Member, *, proposer: str, signers: list) -> Entry:
    """An entry proposed against the log's head and signed by ``signers``, not appended."""
    entry = Entry(
        kind="member",
        body=member_body(member),
        proposer=proposer,
        previous=log.head(),
        signatures={},
    )
    for signer in signers:
        entry = sign_entry(entry, signer.member.staff_id, signer.signing.private)
    return entry


def test_a_new_officer_still_needs_two_officers_then_one(office) -> None:
    log, people = office
    rita = Person("rita", "solicitor", "officer", "Rita")
    state = log.state()
    needs = outstanding(state, _pending(log, rita.member, proposer="ada", signers=[]))
    assert not needs.root_only and needs.count == 2
    assert needs.eligible == {"olivia", "sam"}  # the administrator who proposed it is not named
    signed = _pending(log, rita.member, proposer="ada", signers=[people["olivia"], people["ada"]])
    needs = outstanding(state, signed)
    assert needs.signed == {"olivia"} and needs.count == 1 and needs.eligible == {"sam"}


def test_an_investigator_still_needs_the_proposing_administrator(office) -> None:
    log, people = office
    ivy = Person("ivy", "solicitor", "investigator")
    entry = _pending(log, ivy.member, proposer="ada", signers=[people["olivia"]])
    needs = outstanding(log.state(), entry)
    assert needs.count == 0 and needs.named == {"ada"} and needs.eligible == {"ada"}


def test_a_forged_signature_does_not_count_and_a_move_to_a_small_group_is_the_roots(
    office,
) -> None:
    log, people = office
    olivia, sam = people["olivia"], people["sam"]
    rita = Person("rita", "solicitor", "officer", "Rita")
    forged = replace(
        _pending(log, rita.member, proposer="ada", signers=[]),
        signatures={"olivia": b"\x00" * 64},
    )
    assert outstanding(log.state(), forged).signed == frozenset()
    moved = _pending(log, replace(olivia.member, group="alternate"), proposer="ada", signers=[sam])
    assert outstanding(log.state(), moved).root_only
    assert outstanding(log.state(), moved).eligible == frozenset()
