"""Fuzzing the request parsers: whatever the bytes, text, headers, cursor or claims, the answer is a
success or a PaymentsError with a 4xx status, never another exception (which would be a 500, or a 502
when it escapes the handler).

Hypothesis runs derandomized with no example database, so each run checks the same examples whatever
the machine, the clock or the order of the tests."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from payments.domain.errors import PaymentsError
from payments.http.auth import caller_from_event
from payments.http.guards import MAX_DEPTH, guard_request, parse_json_body
from payments.http.idempotency import require_key
from payments.http.pagination import binding_for, decode_cursor, encode_cursor

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

ANY_CHARACTER = st.characters(codec=None, exclude_categories=())  # surrogates included
ANY_TEXT = st.text(ANY_CHARACTER, max_size=200)


def only_client_errors(call: Callable[[], Any]) -> Any:
    """The call's result, or the PaymentsError it raised, which must be a client error; any other
    exception fails the test."""
    try:
        result = call()
    except PaymentsError as error:
        result = error
    if isinstance(result, PaymentsError):
        assert 400 <= result.status < 500, result
        assert result.detail
    return result


def json_values() -> st.SearchStrategy[Any]:
    scalars = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(ANY_CHARACTER, max_size=20)
    )
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
        max_leaves=20,
    )


INSERTS = [*'[]{}",-', "\\", "\\u", "\\ud800", "\\udc00", '"a":1,"a":2', "NaN", "1e999", "tru", "nul"]
INSERTS += ["\ufffd", "\x00", "\ud800", "\\u0034" * 16, "4242 4242 4242 4242"]


@st.composite
def mangled_json(draw: st.DrawFn) -> str:
    """Valid JSON, then cut, spliced, bracketed, given duplicate keys or odd escapes."""
    text = json.dumps(draw(json_values()), ensure_ascii=draw(st.booleans()))
    for _ in range(draw(st.integers(0, 3))):
        position = draw(st.integers(0, len(text)))
        insert = draw(st.sampled_from(INSERTS))
        text = text[:position] + insert + text[position:]
    if draw(st.booleans()):
        depth = draw(st.integers(0, 3 * MAX_DEPTH))
        text = "[" * depth + text + "]" * depth
    return text


def text_event(body: Any, content_type: str | None = "application/json") -> dict[str, Any]:
    headers = {} if content_type is None else {"content-type": content_type}
    return {"body": body, "isBase64Encoded": False, "headers": headers, "httpMethod": "POST"}


@FUZZ
@given(data=st.binary(max_size=300))
@example(data=b'{"a": "\xff"}')
@example(data=b"[" * 5000)
@example(data=b"\xef\xbb\xbf{}")
def test_any_bytes_as_a_base64_body(data):
    event = {"body": base64.b64encode(data).decode(), "isBase64Encoded": True}
    only_client_errors(lambda: parse_json_body(event))


@FUZZ
@given(body=ANY_TEXT)
@example(body="\ud800")
@example(body="[" * 5000 + "]" * 5000)
def test_any_text_as_a_body(body):
    only_client_errors(lambda: parse_json_body(text_event(body)))


@FUZZ
@given(body=mangled_json(), b64=st.booleans())
def test_mangled_json(body, b64):
    if b64:
        raw = body.encode("utf-8", "surrogatepass")
        event = {"body": base64.b64encode(raw).decode(), "isBase64Encoded": True}
    else:
        event = text_event(body)
    only_client_errors(lambda: parse_json_body(event))


@FUZZ
@given(value=json_values(), indent=st.sampled_from([None, 0, 2]))
def test_valid_json_parses_to_itself_or_is_refused_as_a_client_error(value, indent):
    document = json.dumps(value, indent=indent)
    result = only_client_errors(lambda: parse_json_body(text_event(document)))
    if not isinstance(result, PaymentsError) and document.strip():
        assert result == json.loads(document)


@FUZZ
@given(depth=st.integers(0, 20_000), opener=st.sampled_from(["[", '{"a":']))
def test_any_nesting_depth(depth, opener):
    closer = "]" if opener == "[" else "}"
    body = opener * depth + "1" + closer * depth
    result = only_client_errors(lambda: parse_json_body(text_event(body)))
    assert isinstance(result, PaymentsError) == (depth > MAX_DEPTH)


@FUZZ
@given(
    body=st.one_of(st.none(), st.just(""), st.just("  "), st.just('{"a": 1}'), ANY_TEXT),
    content_type=st.one_of(st.none(), ANY_TEXT, st.sampled_from(["application/json", "text/plain"])),
)
def test_any_content_type(body, content_type):
    only_client_errors(lambda: guard_request(text_event(body, content_type)))


KEY = b"k" * 32
BINDING = binding_for("alice", limit=20)
VALID = encode_cursor({"pk": "PAYMENT#1", "sk": "STATE"}, KEY, BINDING)
assert VALID is not None


@FUZZ
@given(cursor=ANY_TEXT)
@example(cursor="é")
@example(cursor="abc.é")
@example(cursor="\ud800.\ud800")
@example(cursor=VALID + "é")
def test_any_cursor(cursor):
    result = only_client_errors(lambda: decode_cursor(cursor, KEY, BINDING))
    assert result is None or isinstance(result, (dict, PaymentsError))


@FUZZ
@given(position=st.integers(0, len(VALID)), insert=ANY_TEXT, cut=st.integers(0, 5))
def test_a_mutated_valid_cursor(position, insert, cut):
    cursor = VALID[:position] + insert + VALID[position + cut :]
    result = only_client_errors(lambda: decode_cursor(cursor, KEY, BINDING))
    if cursor == VALID:
        assert result == {"pk": "PAYMENT#1", "sk": "STATE"}


CLAIMS = st.one_of(
    ANY_TEXT,
    st.lists(st.one_of(ANY_TEXT, st.integers(), st.none()), max_size=4),
    st.none(),
    st.integers(),
    st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=2),
)


@FUZZ
@given(groups=CLAIMS, sub=st.one_of(st.text(max_size=10), st.none(), st.integers()))
def test_any_claims(groups, sub):
    event = {"requestContext": {"authorizer": {"claims": {"sub": sub, "cognito:groups": groups}}}}
    result = only_client_errors(lambda: caller_from_event(event))
    if not isinstance(result, PaymentsError) and result.is_admin:
        exact = [groups] if isinstance(groups, str) else groups
        assert "payments-admin" in (exact if isinstance(exact, list) else []) or (
            isinstance(groups, str) and groups.startswith("[") and "payments-admin" in groups[1:-1].split()
        )


@FUZZ
@given(key=st.one_of(st.none(), ANY_TEXT), method=st.sampled_from(["POST", "DELETE"]))
def test_any_idempotency_key(key, method):
    only_client_errors(lambda: require_key(key, method=method))
