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


# An event's fields as the chain covers them: number, time, actor, action, case, detail, key id.
_events = st.tuples(
    st.integers(min_value=0, max_value=2**63), _texts, _texts, _texts, _maybe, _texts, _maybe
)


@given(event=_events)
def test_the_encoding_is_compact_ascii_json(
    event: tuple[int, str, str, str, str | None, str, str | None],
) -> None:
    expected = json.dumps(list(event), separators=(",", ":"), ensure_ascii=True).encode("ascii")
    assert canonical_encoding(*event) == expected


def test_an_event_with_quotes_accents_and_control_characters() -> None:
    at = datetime(2026, 12, 6, 10, 51, 14, 266782, tzinfo=UTC).isoformat(timespec="microseconds")
    detail = json.dumps({"reason": 'dit « non »\n\t"cité"\\', "é": None})
    encoded = canonical_encoding(7, at, "clerk@example.org", "case.note", None, detail, "0123abcd")
    assert encoded == json.dumps(
        [7, at, "clerk@example.org", "case.note", None, detail, "0123abcd"],
        separators=(",", ":"),
    ).encode("ascii")
    assert json.loads(encoded)[5] == detail
