from __future__ import annotations

import itertools
import secrets

import pytest

from crypto import ShareError, combine_shares, split_secret


def test_any_k_of_n_shares_give_the_secret_back() -> None:
    secret = secrets.token_bytes(32)
    shares = split_secret(secret, threshold=2, shares=3)
    assert len(shares) == 3
    assert all(len(share.split()) == 33 for share in shares)
    for pair in itertools.combinations(shares, 2):
        assert combine_shares(pair) == secret
    assert combine_shares(shares) == secret


def test_fewer_than_k_shares_open_nothing() -> None:
    secret = secrets.token_bytes(32)
    shares = split_secret(secret, threshold=3, shares=5)
    with pytest.raises(ShareError, match="Too few recovery shares"):
        combine_shares(shares[:2])
    # The same share twice is one share.
    with pytest.raises(ShareError, match="Too few recovery shares"):
        combine_shares([shares[0], shares[0], shares[1]])


def test_a_mistyped_word_is_named_as_a_typo_and_shows_no_share() -> None:
    shares = split_secret(secrets.token_bytes(32), threshold=2, shares=3)
    words = shares[0].split()
    words[5] = "academic" if words[5] != "academic" else "acid"
    with pytest.raises(ShareError, match="mistyped") as caught:
        combine_shares([" ".join(words), shares[1]])
    # No run of the shares' words in the message (a single word may be one of its own: "check").
    for share in (shares[1], " ".join(words)):
        share_words = share.split()
        for start in range(len(share_words) - 2):
            assert " ".join(share_words[start : start + 3]) not in str(caught.value)
    with pytest.raises(ShareError, match="mistyped"):
        combine_shares(["not a share at all", shares[1]])


def test_shares_of_two_sets_do_not_mix() -> None:
    first = split_secret(secrets.token_bytes(32), threshold=2, shares=3)
    second = split_secret(secrets.token_bytes(32), threshold=2, shares=3)
    with pytest.raises(ShareError, match="do not belong together"):
        combine_shares([first[0], second[1]])


def test_case_spacing_and_blank_lines_are_forgiven() -> None:
    secret = secrets.token_bytes(32)
    shares = split_secret(secret, threshold=2, shares=3)
    messy = ["", "  " + shares[0].upper().replace(" ", "   ") + "\n", shares[2]]
    assert combine_shares(messy) == secret
    with pytest.raises(ShareError, match="No recovery share"):
        combine_shares(["", "  "])


@pytest.mark.parametrize(
    ("size", "threshold", "count"), [(15, 2, 3), (33, 2, 3), (32, 1, 3), (32, 4, 3), (32, 2, 17)]
)
def test_unusable_parameters_are_refused(size: int, threshold: int, count: int) -> None:
    with pytest.raises(ValueError):
        split_secret(b"\x01" * size, threshold=threshold, shares=count)
