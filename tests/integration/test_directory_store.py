"""The recipient directory stored in the database: proposals, approvals, verification."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import update

import crypto
from intake.accounts import directory
from intake.accounts.directory_rules import ROOT, Member, member_body
from intake.errors import InvalidInput
from intake.storage import db
from intake.storage.models import DirectoryEntry
from tests.support.instance import make_instance

ROOT_KEY = crypto.generate_signing_keypair()


def person(staff_id: str, group: str, role: str, label: str | None = None):
    signing = crypto.generate_signing_keypair()
    member = Member(
        staff_id=staff_id,
        group=group,
        role=role,
        active=True,
        label=label,
        encryption_public=crypto.generate_keypair().public,
        signing_public=signing.public,
    )
    return member, signing.private


async def _root_entry(runtime, kind, body) -> None:
    async with db.transaction(runtime.sessions) as session:
        change = await directory.propose(
            session, root_public=ROOT_KEY.public, kind=kind, body=body, proposer=ROOT
        )
        outcome = await directory.approve(
            session,
            change.id,
            root_public=ROOT_KEY.public,
            signer=ROOT,
            signing_private=ROOT_KEY.private,
        )
        assert outcome == "applied"


@pytest.fixture
async def office(database_url, tmp_path):
    directory.forget_verified()
    made = await make_instance(tmp_path / "data", database_url, seed=False)
    runtime = made.runtime
    await _root_entry(runtime, "group", {"group": "solicitor", "name": "Solicitor's office"})
    keys = {}
    for staff_id in ("olivia", "sam"):
        member, private = person(staff_id, "solicitor", "officer", staff_id.title())
        keys[staff_id] = private
        await _root_entry(runtime, "member", member_body(member))
    yield runtime, keys
    directory.forget_verified()
    await runtime.close()


async def test_a_change_takes_effect_with_two_officers_and_not_before(office) -> None:
    runtime, keys = office
    rita, _ = person("rita", "solicitor", "officer", "Rita")
    async with db.transaction(runtime.sessions) as session:
        change = await directory.propose(
            session,
            root_public=ROOT_KEY.public,
            kind="member",
            body=member_body(rita),
            proposer="ada",
        )
        first = await directory.approve(
            session,
            change.id,
            root_public=ROOT_KEY.public,
            signer="olivia",
            signing_private=keys["olivia"],
        )
        assert first == "pending"
        assert [c.id for c in await directory.pending_changes(session)] == [change.id]
        state = await directory.verified_state(session, root_public=ROOT_KEY.public)
        assert "rita" not in state.members
        second = await directory.approve(
            session,
            change.id,
            root_public=ROOT_KEY.public,
            signer="sam",
            signing_private=keys["sam"],
        )
        assert second == "applied"
    async with runtime.sessions() as session:
        state = await directory.verified_state(session, root_public=ROOT_KEY.public)
        assert state.members["rita"].label == "Rita"
        assert await directory.pending_changes(session) == []


async def test_someone_the_rule_does_not_name_cannot_sign(office) -> None:
    runtime, _ = office
    mallory, mallory_key = person("mallory", "solicitor", "officer")
    async with db.transaction(runtime.sessions) as session:
        change = await directory.propose(
            session,
            root_public=ROOT_KEY.public,
            kind="member",
            body=member_body(mallory),
            proposer="ada",
        )
        with pytest.raises(InvalidInput, match="does not name you"):
            await directory.approve(
                session,
                change.id,
                root_public=ROOT_KEY.public,
                signer="ada",
                signing_private=mallory_key,
            )


async def test_a_rewritten_row_is_named_by_verification(office) -> None:
    runtime, _ = office
    async with db.transaction(runtime.sessions) as session:
        row = await session.get(DirectoryEntry, 1)
        body = json.loads(row.body)
        body["label"] = "Someone else"
        await session.exec(
            update(DirectoryEntry).where(DirectoryEntry.position == 1).values(body=json.dumps(body))
        )
    directory.forget_verified()
    async with runtime.sessions() as session:
        verification = await directory.verify_all(session, root_public=ROOT_KEY.public)
    assert not verification.ok
    assert str(verification.problem) == "entry 2: the root key's signature is not valid"


async def test_a_signed_change_overtaken_by_another_must_be_proposed_again(office) -> None:
    """Signatures cover the head a change was proposed against: when another entry lands
    first, they cannot carry over. A change nobody signed yet follows the new head."""
    runtime, keys = office
    rita, _ = person("rita", "solicitor", "officer", "Rita")
    tom, _ = person("tom", "solicitor", "officer", "Tom")
    async with db.transaction(runtime.sessions) as session:
        changes = [
            await directory.propose(
                session,
                root_public=ROOT_KEY.public,
                kind="member",
                body=member_body(someone),
                proposer="ada",
            )
            for someone in (rita, tom)
        ]
        signed_id, unsigned_id = changes[0].id, changes[1].id
        await directory.approve(
            session,
            signed_id,
            root_public=ROOT_KEY.public,
            signer="olivia",
            signing_private=keys["olivia"],
        )
    await _root_entry(runtime, "group", {"group": "alternate", "name": "City manager"})
    with pytest.raises(InvalidInput, match="propose it again"):
        async with db.transaction(runtime.sessions) as session:
            await directory.approve(
                session,
                signed_id,
                root_public=ROOT_KEY.public,
                signer="sam",
                signing_private=keys["sam"],
            )
    async with db.transaction(runtime.sessions) as session:
        for signer in ("olivia", "sam"):
            outcome = await directory.approve(
                session,
                unsigned_id,
                root_public=ROOT_KEY.public,
                signer=signer,
                signing_private=keys[signer],
            )
    assert outcome == "applied"
    async with runtime.sessions() as session:
        state = await directory.verified_state(session, root_public=ROOT_KEY.public)
    assert "tom" in state.members and "rita" not in state.members
