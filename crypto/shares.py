"""Splitting a secret into word-list shares, k of n, with SLIP-39 (``shamir-mnemonic``).

A group's recovery private key, and the office root signing key, never exist whole outside the key
ceremony: each is split into ``n`` shares for named custodians, any ``k`` of which give it back.
SLIP-39 is a published standard (SatoshiLabs Improvement Proposal 39) with its own checksum, so a
mistyped word is caught before anything is combined, and its word list is meant to be written
down by hand.

One share set has one group (SLIP-39's two-level scheme is not used) and no passphrase: the
shares alone are the secret, and they are kept apart by people, not by a password.
"""

from __future__ import annotations

from collections.abc import Iterable

import shamir_mnemonic
from shamir_mnemonic import MnemonicError
from shamir_mnemonic.share import Share

from crypto._encoding import require_bytes
from crypto.errors import ShareError

__all__ = ["MAX_SHARES", "combine_shares", "split_secret"]

MAX_SHARES = 16


def split_secret(secret: bytes, *, threshold: int, shares: int) -> list[str]:
    """``shares`` word-list shares of ``secret``, any ``threshold`` of which recover it.

    ``secret`` must be 16 bytes or more, of even length (SLIP-39's rule; keys are 32 bytes).
    ``threshold`` is at least 2: a 1-of-n split would hand the whole key to each custodian.
    """
    require_bytes(secret, "secret")
    if len(secret) < 16 or len(secret) % 2:
        raise ValueError("secret must be at least 16 bytes long, and of even length")
    if not 2 <= threshold <= shares <= MAX_SHARES:
        raise ValueError(f"need 2 <= threshold <= shares <= {MAX_SHARES}")
    groups = shamir_mnemonic.generate_mnemonics(
        group_threshold=1, groups=[(threshold, shares)], master_secret=secret
    )
    return list(groups[0])


def combine_shares(shares: Iterable[str]) -> bytes:
    """The secret from ``threshold`` or more distinct shares of one set.

    Raises :class:`ShareError` with a sentence fit to show the custodian: too few shares, a
    mistyped word (checksum), or shares of different sets. Blank lines are ignored, and words are
    compared in lower case with runs of spaces folded.
    """
    cleaned = sorted({" ".join(share.lower().split()) for share in shares if share.strip()})
    if not cleaned:
        raise ShareError("No recovery share was given.")
    try:
        return bytes(shamir_mnemonic.combine_mnemonics(_threshold_many(cleaned)))
    except MnemonicError as error:
        raise ShareError(_plain(str(error))) from None


def _threshold_many(mnemonics: list[str]) -> list[str]:
    """SLIP-39 combines exactly ``threshold`` shares: more custodians than needed is no error
    here, so keep the first ``threshold`` (every share of a set carries the threshold)."""
    threshold = Share.from_mnemonic(mnemonics[0]).member_threshold
    return mnemonics[:threshold] if len(mnemonics) > threshold else mnemonics


def _plain(reason: str) -> str:
    """SLIP-39's reasons, kept only where they help the custodian and reveal no share."""
    lowered = reason.lower()
    if "wrong number of mnemonics" in lowered or "insufficient number" in lowered:
        return "Too few recovery shares: more custodians must give theirs."
    if "checksum" in lowered:
        return "A recovery share is mistyped: check each word against the custodian's copy."
    if "invalid mnemonic word" in lowered or "invalid mnemonic length" in lowered:
        return "A recovery share is mistyped: check each word against the custodian's copy."
    return "These recovery shares do not belong together."
