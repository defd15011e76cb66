"""A checkpoint's text survives the ways people keep it: quoted in a reply, wrapped, pasted
with other mail around it; a block cut short or altered never passes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import crypto
from intake.operations import checkpoints

KEYS = crypto.generate_signing_keypair()
HEAD = "ab" * 32


def _made(count: int = 7) -> checkpoints.Checkpoint:
    return checkpoints.make(
        KEYS.private,
        count=count,
        head=HEAD,
        at=datetime(2026, 12, 6, 1, 2, 3, 456789, tzinfo=UTC),
        key_id="0123456789abcdef",
    )


def test_the_text_reads_back_signed_with_short_lines() -> None:
    made = _made()
    assert all(len(line) <= 78 for line in made.text().splitlines())
    found, unreadable = checkpoints.parse(made.text(), "here")
    assert not unreadable and found[0].count == 7 and found[0].head == HEAD
    assert found[0].time_text == "2026-12-06T01:02:03Z"
    assert found[0].signature_holds(KEYS.public)
    assert not found[0].signature_holds(crypto.generate_signing_keypair().public)


def test_quoted_twice_among_other_text_with_a_rewrapped_signature() -> None:
    block = _made().text().replace("\n  ", " ")  # the signature's two halves on one line
    pasted = "On Monday the service wrote:\n" + "".join(
        f"> > {line}\n" for line in block.splitlines()
    )
    found, unreadable = checkpoints.parse(pasted + "\nThanks,\nthe clerk\n", "email")
    assert not unreadable and found[0].signature_holds(KEYS.public)


def test_an_altered_count_fails_its_signature_and_a_cut_block_is_unreadable() -> None:
    text = _made().text()
    altered, _ = checkpoints.parse(text.replace("count: 7", "count: 6"), "x")
    assert not altered[0].signature_holds(KEYS.public)
    cut = text[: text.index("signature")]
    found, unreadable = checkpoints.parse(cut + _made(8).text(), "x")
    assert [checkpoint.count for checkpoint in found] == [8] and len(unreadable) == 1
    garbage, unreadable = checkpoints.parse(
        f"{checkpoints.BEGIN}\ncount: many\nhead: zz\n{checkpoints.END}\n", "x"
    )
    assert not garbage and len(unreadable) == 1


def test_appending_keeps_every_block_and_a_missing_folder_is_reported_not_raised(
    tmp_path: Path,
) -> None:
    path = tmp_path / "witness.txt"
    assert checkpoints.append(path, [_made(1)]) and checkpoints.append(path, [_made(2)])
    found, _ = checkpoints.read_file(path)
    assert [checkpoint.count for checkpoint in found] == [1, 2]
    assert path.stat().st_mode & 0o777 == 0o600
    assert checkpoints.append(tmp_path / "absent" / "witness.txt", [_made(3)]) is False
