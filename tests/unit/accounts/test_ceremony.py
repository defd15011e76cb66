"""The key ceremony: keys split among custodians by role, and the custodian rule."""

from __future__ import annotations

import itertools

import pytest

import crypto
from intake.accounts.ceremony import (
    CeremonyRefused,
    CustodianPlan,
    format_public,
    parse_public,
    run_ceremony,
)

PLANS = {
    "solicitor": CustodianPlan(("solicitor-clerk", "auditor", "city-clerk"), 2),
    "alternate": CustodianPlan(("auditor", "commissioner", "mayor"), 2),
}
ROOT_PLAN = CustodianPlan(("auditor", "city-clerk", "commissioner"), 2)


def ceremony(plans=PLANS):
    return run_ceremony(
        ["solicitor", "alternate"],
        plans,
        ROOT_PLAN,
        default_group="solicitor",
        alternate_group="alternate",
    )


def test_any_k_custodians_open_their_key_and_fewer_open_nothing() -> None:
    result = ceremony()
    for group, key in result.recovery.items():
        assert len(key.shares) == 3
        for pair in itertools.combinations(key.shares, 2):
            private = crypto.combine_shares(pair)
            assert crypto.public_key_of(private) == key.public, group
        with pytest.raises(crypto.ShareError):
            crypto.combine_shares(key.shares[:1])
    root_private = crypto.combine_shares(result.root.shares[1:])
    assert crypto.signing_public_key_of(root_private) == result.root.public


def test_the_json_gives_publics_roles_and_shares() -> None:
    out = ceremony().as_json()
    assert set(out) == {"root", "recovery", "custodians", "threshold", "shares"}
    assert set(out["recovery"]) == {"solicitor", "alternate"}
    assert set(out["shares"]) == {"root", "solicitor", "alternate"}
    assert out["custodians"]["alternate"] == ["auditor", "commissioner", "mayor"]
    assert parse_public(out["root"]) and parse_public(out["recovery"]["solicitor"])


def test_no_share_shows_in_a_repr() -> None:
    key = ceremony().recovery["solicitor"]
    assert key.shares[0] not in repr(key)


def test_the_default_groups_custodians_cannot_complete_the_alternate_key() -> None:
    plans = {
        "solicitor": CustodianPlan(("solicitor-clerk", "deputy-solicitor", "auditor"), 2),
        "alternate": CustodianPlan(("solicitor-clerk", "deputy-solicitor", "mayor"), 2),
    }
    with pytest.raises(CeremonyRefused, match="would be enough to open alternate"):
        ceremony(plans)


def test_public_keys_round_trip_and_bad_text_is_refused() -> None:
    public = crypto.generate_keypair().public
    assert parse_public(format_public(public).lower()) == public
    for text in ("", "0000", format_public(public)[:-5]):
        with pytest.raises(ValueError):
            parse_public(text)


@pytest.mark.parametrize(("roles", "threshold"), [(("a",), 1), (("a", "b"), 3), (("a", " "), 2)])
def test_unusable_plans_are_refused(roles: tuple[str, ...], threshold: int) -> None:
    with pytest.raises(ValueError):
        CustodianPlan(roles, threshold)
