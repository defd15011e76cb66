"""The audit chain's canonical encoding is exactly the JSON it has always been.

Links written by earlier releases cover ``json.dumps([...], separators=(",", ":"))``; the
field-by-field writer must give the same bytes for every event, or a walk would report an
intact log as altered (and new links would not verify under an older release).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from intake.operations.audit import canonical_encoding

_texts = st.text()
_maybe = st.none() | st.text()


@given(
    seq=st.integers(min_value=0, max_value=2**63),
    at=_texts,
    actor=_texts,
    action=_texts,
    case_ref=_maybe,
    detail=_texts,
    key_id=_maybe,
)
def test_the_encoding_is_compact_ascii_json(
    seq: int,
    at: str,
    actor: str,
    action: str,
    case_ref: str | None,
    detail: str,
    key_id: str | None,
) -> None:
    fields = [seq, at, actor, action, case_ref, detail, key_id]
    expected = json.dumps(fields, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    assert canonical_encoding(seq, at, actor, action, case_ref, detail, key_id) == expected


def test_an_event_with_quotes_accents_and_control_characters() -> None:
    at = datetime(2026, 12, 6, 10, 51, 14, 266782, tzinfo=UTC).isoformat(timespec="microseconds")
    detail = json.dumps({"reason": 'dit « non »\n\t"cité"\\', "é": None})
    encoded = canonical_encoding(7, at, "clerk@example.org", "case.note", None, detail, "0123abcd")
    assert encoded == json.dumps(
        [7, at, "clerk@example.org", "case.note", None, detail, "0123abcd"],
        separators=(",", ":"),
    ).encode("ascii")
    assert json.loads(encoded)[5] == detail
