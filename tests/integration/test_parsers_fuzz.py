"""Property tests on every parser that takes what a person or an operator typed: each either
returns a value or raises its one documented error with a sentence, for any input at all.
(The crypto package's own parsers and boundaries are covered in tests/unit/crypto.)"""

from __future__ import annotations

import json

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import crypto
from intake import config_fields
from intake.accounts import keyring
from intake.casework import access, records
from intake.errors import InvalidInput, TokenMistyped
from intake.web.api.parsing import MalformedRequest, parse_model
from intake.web.api.reporter import MessageIn, ReportIn, TokenIn

# Every code point, lone surrogates included (JSON can carry them; UTF-8 cannot).
ANY_CHAR = st.characters(codec=None, categories=None)
ANY_TEXT = st.text(ANY_CHAR, max_size=60)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | ANY_TEXT,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["category", "body", "token", "x", ""]) | ANY_TEXT, children, max_size=4
        )
    ),
    max_leaves=12,
)
FAST = settings(max_examples=300, deadline=None)


@FAST
@given(data=JSON_VALUES, model=st.sampled_from([ReportIn, TokenIn, MessageIn]))
def test_any_json_value_is_a_model_or_a_clear_422(data: object, model: type) -> None:
    try:
        parsed = parse_model(model, data)
    except InvalidInput as error:
        assert error.status == 422 and error.message.startswith("Invalid request")
        return
    assert isinstance(data, dict) and set(data) <= set(model.model_fields)
    assert parsed.model_dump() == {**parsed.model_dump(), **data}


@FAST
@given(text=ANY_TEXT, limit=st.integers(min_value=1, max_value=40))
def test_written_text_is_kept_exactly_or_refused_with_a_reason(text: str, limit: int) -> None:
    try:
        kept = records.check_text(text, limit=limit, what="report", field_name="body")
    except InvalidInput as error:
        assert error.field == "body" and "report" in error.message
        return
    assert kept == text and text.strip() and len(text) <= limit
    kept.encode("utf-8")  # what is accepted can always be encrypted and stored


@FAST
@given(text=ANY_TEXT)
def test_any_typed_token_is_canonical_or_named_a_typo(text: str) -> None:
    try:
        canonical = access.canonical_token(text)
    except TokenMistyped as error:
        assert error.status == 422 and error.field == "token" and error.message
        return
    assert canonical == crypto.normalise_token(canonical)


@FAST
@given(
    token=st.builds(lambda _: crypto.new_token(), st.integers()),
    noise=st.sampled_from(
        [
            str.lower,
            str.upper,
            lambda t: t.replace("-", " "),
            lambda t: t.replace("-", ""),
            lambda t: f"  {t}\n",
        ]
    ),
)
def test_real_tokens_survive_how_people_retype_them(token: str, noise) -> None:
    assert access.canonical_token(noise(token)) == access.canonical_token(token)


@FAST
@given(text=ANY_TEXT)
def test_recovery_key_text_is_a_key_or_refused(text: str) -> None:
    try:
        key = keyring.parse_recovery_key(text)
    except InvalidInput as error:
        assert "recovery key" in error.message
        return
    assert len(key) == 32


def test_recovery_key_round_trip() -> None:
    private = crypto.generate_keypair().private
    assert keyring.parse_recovery_key(keyring.format_recovery_key(private).lower()) == private


@FAST
@given(text=ANY_TEXT)
@example(text="closed=❶")  # str.isdigit says yes to it, int refuses it
def test_operator_settings_parse_or_say_what_is_wrong(text: str) -> None:
    for parse in (
        config_fields.parse_bool,
        config_fields.parse_categories,
        config_fields.parse_onion,
        config_fields.parse_retention,
        config_fields.parse_int,
        config_fields.parse_networks,
        config_fields.parse_header_name,
    ):
        try:
            parse("QUIETLINE_SETTING", text)
        except config_fields.ConfigError as error:
            assert "QUIETLINE_SETTING" in str(error)


@pytest.mark.parametrize("raw", [b"", b"{", b"\xff", b"[1,", b'"\\ud800"', b"1e999999"])
def test_json_that_does_not_parse_is_malformed_not_a_crash(raw: bytes) -> None:
    try:
        data = json.loads(raw)
    except ValueError:
        return  # read_json answers these with MalformedRequest (test_hostile_input.py)
    with pytest.raises((InvalidInput, MalformedRequest)):
        parse_model(ReportIn, data)


async def test_a_lone_surrogate_in_json_is_refused_not_a_crash(sqlite_client) -> None:
    """JSON may escape a lone surrogate ("\\ud800"), which UTF-8 cannot store."""
    headers = {"content-type": "application/json"}
    filed = await sqlite_client.post(
        "/api/v1/reports", content=b'{"category": "financial", "body": "a\\ud800"}', headers=headers
    )
    assert filed.status_code == 422 and "cannot be saved" in filed.json()["error"]
    token = (
        await sqlite_client.post("/api/v1/reports", json={"category": "financial", "body": "x"})
    ).json()["token"]
    sent = await sqlite_client.post(
        "/api/v1/reports/messages",
        content=b'{"token": "%s", "body": "b\\udc00"}' % token.encode(),
        headers=headers,
    )
    assert sent.status_code == 422 and "cannot be saved" in sent.json()["error"]
    status = await sqlite_client.post("/api/v1/reports/status", json={"token": token})
    assert status.json()["messages"] == []
