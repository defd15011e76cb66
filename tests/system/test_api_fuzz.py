"""schemathesis against the live API and its own OpenAPI document: no 500, no answer that
contradicts the document, hostile input refused with a documented 4xx.

The server is a real ``quietline serve`` on loopback; examples are bounded so the run stays
short on two cores.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote_from_bytes

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig

from tests.support.instance import quietline_environ
from tests.support.live import LiveServer, free_port


@pytest.fixture(scope="module")
def fuzzed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data = Path(tmp_path_factory.mktemp("fuzz")) / "data"
    server = LiveServer(data_dir=data, port=free_port(), environ=quietline_environ(data))
    assert server.command("demo").returncode == 0
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def api_schema(fuzzed_server: LiveServer) -> schemathesis.BaseSchema:
    # Invalid input must be refused with a 4xx; an upload over a documented limit (too many
    # files, a file too large) is refused with 413 before the rest is read, which is a refusal
    # too, so 413 joins the statuses schemathesis accepts for invalid data.
    config = SchemathesisConfig.from_dict(
        {
            "checks": {
                "negative_data_rejection": {
                    "expected-statuses": [
                        400,
                        401,
                        403,
                        404,
                        405,
                        406,
                        409,
                        413,
                        415,
                        422,
                        428,
                        429,
                    ]
                }
            }
        }
    )
    return schemathesis.openapi.from_url(f"{fuzzed_server.url}/api/v1/openapi.json", config=config)


MODES = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]


@pytest.mark.parametrize("mode", MODES, ids=[mode.value for mode in MODES])
def test_api_answers_as_documented(
    api_schema: schemathesis.BaseSchema, mode: schemathesis.GenerationMode
) -> None:
    """Valid and invalid requests to every documented operation, checked by every
    schemathesis check (no 5xx, status, content type, headers and body as documented,
    invalid input refused)."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 4

    for operation in operations:
        if mode == schemathesis.GenerationMode.NEGATIVE and not operation.body:
            continue  # nothing to make invalid: no body, no parameters
        # A token's check character cannot be said in JSON Schema: a well-formed but mistyped
        # token (original_token of a reprisal complaint included) is refused with the
        # documented 422, so "valid data accepted" does not apply there.
        takes_token = operation.path in {
            "/api/v1/reports",
            "/api/v1/reports/status",
            "/api/v1/reports/messages",
            "/api/v1/reports/identity",
            "/api/v1/reports/identity/withdraw",
        }
        excluded = [schemathesis.checks.positive_data_acceptance] if takes_token else []

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=40 if mode == schemathesis.GenerationMode.POSITIVE else 25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(excluded_checks=excluded)

        check()


FORM_FIELDS = st.dictionaries(
    st.sampled_from(
        ["category", "body", "token", "involves_office", "identity_name", "confirm", "x"]
    ),
    st.binary(max_size=80),
    max_size=5,
)


@pytest.mark.parametrize(
    "path",
    ["/report", "/status", "/status/message", "/status/identity", "/status/identity/withdraw"],
)
def test_reporter_forms_never_fail_whatever_is_posted(fuzzed_server: LiveServer, path: str) -> None:
    """Arbitrary bytes in arbitrary fields (invalid UTF-8 included): a page, never a 500."""
    with httpx.Client(base_url=fuzzed_server.url, timeout=30) as client:

        @given(fields=FORM_FIELDS)
        @settings(max_examples=40, deadline=None, derandomize=True, database=None)
        def check(fields: dict[str, bytes]) -> None:
            body = b"&".join(
                quote_from_bytes(name.encode()).encode() + b"=" + quote_from_bytes(value).encode()
                for name, value in fields.items()
            )
            answer = client.post(
                path, content=body, headers={"content-type": "application/x-www-form-urlencoded"}
            )
            assert answer.status_code < 500, answer.text
            assert answer.headers["content-type"].startswith("text/html")

        check()


def test_the_server_said_nothing_about_what_it_was_sent(fuzzed_server: LiveServer) -> None:
    """After the fuzzing, the server's output holds no traceback and no internal error."""
    # Stopped first: an error during a reporter's request is written only later (at the latest
    # when the server stops), so that the log keeps no time of it.
    fuzzed_server.stop()
    output = fuzzed_server.output()
    assert b"Traceback" not in output
    assert b"internal error" not in output
