import base64
import json

import pytest

from payments.domain.errors import BadRequest, CardDataNotAccepted, UnsupportedMediaType
from payments.http.guards import (
    MAX_BODY_BYTES,
    GuardedRequest,
    contains_card_number,
    guard_request,
    is_json_media_type,
    luhn_valid,
    parse_json_body,
)


@pytest.mark.parametrize(
    "number",
    ["4242424242424242", "4242 4242 4242 4242", "4000-0566-5566-5556", "378282246310005", "6011111111111117"],
)
def test_card_numbers_are_detected(number):
    assert contains_card_number(f'{{"note": "{number}"}}')


@pytest.mark.parametrize(
    "text", ["1234567890123", "order-2026112612000001", '{"amount": 4242}', "pm_card_visa"]
)
def test_non_cards_pass(text):
    assert not contains_card_number(text)


def test_luhn():
    assert luhn_valid("4242424242424242")
    assert not luhn_valid("4242424242424241")


def event(body, b64=False):
    raw = body if isinstance(body, bytes) else body.encode()
    return {"body": base64.b64encode(raw).decode() if b64 else raw.decode(), "isBase64Encoded": b64}


def test_pan_anywhere_in_the_body_is_refused_even_as_number_or_escaped():
    for body in (
        json.dumps({"metadata": {"x": "4242424242424242"}}),
        '{"amount": 4242424242424242}',
        '{"note": "\\u0034242424242424242"}',
    ):
        with pytest.raises(CardDataNotAccepted) as error:
            parse_json_body(event(body))
        assert "4242" not in error.value.detail


def test_base64_bodies_are_decoded_first():
    with pytest.raises(CardDataNotAccepted):
        parse_json_body(event(b'{"card": "4242424242424242"}', b64=True))
    assert parse_json_body(event(b'{"a": 1}', b64=True)) == {"a": 1}


def test_not_json_and_too_large():
    with pytest.raises(BadRequest) as error:
        parse_json_body(event("{nope"))
    assert error.value.code == "malformed_json"
    with pytest.raises(BadRequest) as error:
        parse_json_body(event('{"a": "' + "x" * MAX_BODY_BYTES + '"}'))
    assert error.value.code == "payload_too_large"
    with pytest.raises(BadRequest):
        parse_json_body(event('{"a": NaN}'))


# --------------------------------------------------------------------------- card numbers in any format

CARD_NUMBERS = [
    "4242 4242 4242 4242 12/29",
    "4242.4242.4242.4242",
    "4242424242424242 123",
    "4242424242424242123",  # a CVC glued on
    "42424242424242421229",  # an expiry glued on
    "4242\u00a04242\u00a04242\u00a04242",  # no-break spaces
    "4242\u202f4242\u202f4242\u202f4242",  # narrow no-break spaces
    "4242\u20074242\u20094242\u30004242",  # figure, thin and ideographic spaces
    "4242\u200b4242\u200b4242\u200b4242",  # zero-width spaces
    "4242\u00ad4242\u00ad4242\u00ad4242",  # soft hyphens
    "4242 \u200b\u200b 4242 \u200b 4242 4242",  # invisible characters do not lengthen a separator
    "4242\t\n 4242\r\n4242    4242",  # a run of whitespace is one separator
    "\uff14\uff12" * 8,  # full-width
    "\u0664\u0662" * 8,  # Arabic-Indic
    "\u096a\u0968" * 8,  # Devanagari
    "\U0001d7d2\U0001d7d0\U0001d7d2\U0001d7d0" * 4,  # mathematical bold
    "\u2074\u00b2\u2074\u00b2" * 4,  # superscripts (NFKC)
    "4242/4242/4242/4242",
    "4242_4242_4242_4242",
    "4242:4242:4242:4242",
    "4242, 4242, 4242, 4242",
    "4242 - 4242 - 4242 - 4242",
    "(4242) 4242-4242-4242",
    "4*2*4*2*4*2*4*2*4*2*4*2*4*2*4*2",
    "card: 4242 4242 4242 4242, exp 12/29, cvc 123",
    "ref 12 4242 4242 4242 4242",  # digits before it, apart
    "x4242424242424242y",
    "5555 5555 5555 4444",
    "2223 0031 2200 3222",  # Mastercard 2-series
    "3782 822463 10005",  # Amex
    "3782-822463-10005-1229",
    "6011 1111 1111 1117",
    "3566 0020 2036 0505",  # JCB
    "6200000000000005",  # UnionPay
    "8171999927660000",  # UnionPay 81
    "4000 0566 5566 5556",
    "4222222222222",  # 13 digits
    "4242424242424242428",  # 19 digits... and its 16-digit prefix
]


@pytest.mark.parametrize("text", CARD_NUMBERS)
def test_card_numbers_are_detected_whatever_separates_or_follows_them(text):
    assert contains_card_number(text)
    assert contains_card_number(f"note: {text} (thanks)")


ORDINARY = [
    "2026-11-26T12:34:56.789012+00:00",
    "2026-04-09T06:40:49.977195+00:00",  # 40 49 977195 00 00: 14 digits passing Luhn in the 4 range
    "2026-04-09 06:40:49.977195+00:00",
    "paid at 2024-12-10T06:26:43.681949+00:00 by card",
    "2026-11-26T12:34:56.123456789Z",
    "2026-11-26",
    "61502dee-3518-4376-8241-0ad1f6da7a63",  # 3518 4376 8241 0: 13 digits passing Luhn in the 3 range
    "230D977E-E225-4159-8720-771F8CA81811",
    "550e8400-e29b-41d4-a716-446655440000",
    "25.99",
    "1,234,567.89",
    "2599",
    "USD 2,599.00 for 3 items",
    "+1 (555) 010-0199",
    "pm_card_visa",
    "pm_1NqXyZ2eZvKYlo2C4242424242",
    "order-2026112612000001",
    "1234567890123",
    "9000000000000001",  # Luhn-valid outside every card network's range
    "7777777777777771",
    "1000000000000008",
    "4000000000000000",  # no 13 to 16 digits of it pass Luhn
    "4242 4242 4242",  # too short
    "4242 4242\u2014\u2014\u2014\u20144242 4242",  # a long separator splits it
    "4242 4242 four 4242 4242",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_values_are_not_card_numbers(text):
    assert not contains_card_number(text)


def test_a_number_whose_first_digits_are_a_card_number_is_refused():
    # 4242424242424241 fails Luhn, but its first 14 digits pass: a card number with a digit glued on.
    assert not luhn_valid("4242424242424241")
    assert luhn_valid("42424242424242")
    assert contains_card_number("4242424242424241")


def test_a_card_number_is_still_seen_next_to_a_timestamp_or_uuid():
    assert contains_card_number("2026-11-26T12:34:56Z 4242 4242 4242 4242")
    assert contains_card_number("4242 4242 4242 4242 2026-11-26T12:34:56Z")
    assert contains_card_number("550e8400-e29b-41d4-a716-446655440000 4242-4242-4242-4242")
    # A "timestamp" that is not one (hour 42) is read as digits.
    assert contains_card_number("4242-42-42 42:42:42.424242")


@pytest.mark.parametrize(
    "body",
    [
        '{"note": "4242 4242 4242 4242 12/29"}',
        '{"a": {"b": [{"c": "x 4242.4242.4242.4242 y"}]}}',
        '{"4242424242424242": 1}',
        '{"amount": 4242424242424242}',
        '{"amount": -4242424242424242}',
        '{"amount": 4.242424242424242e15}',
        '{"amount": 42424242424242421229}',
        '{"n": "' + "".join(f"\\u{ord(c):04x}" for c in "4242 4242 4242 4242") + '"}',
        '{"n": "' + "\\uff14\\uff12" * 8 + '"}',
        '{"n": "4242\\u00a04242\\u00a04242\\u00a04242"}',
        '{"n": "4242\\n4242\\t4242\\r4242"}',
    ],
)
def test_a_card_number_anywhere_in_the_json_is_refused_and_never_echoed(body):
    with pytest.raises(CardDataNotAccepted) as error:
        parse_json_body(event(body))
    assert "4242" not in error.value.detail
    assert "4242" not in str(error.value.extra)


def test_an_ordinary_payment_body_passes():
    body = {
        "order_id": "order-7f3a9c2e41b0",
        "amount": 2599,
        "currency": "usd",
        "payment_method_id": "pm_card_visa",
        "description": "2 books, placed 2026-04-09T06:40:49.977195+00:00",
        "metadata": {"cart": "61502dee-3518-4376-8241-0ad1f6da7a63", "placed": "2026-04-09 06:40:49.977195"},
        "return_url": "https://shop.example/return?order=7f3a9c2e41b0&ts=1764158400",
    }
    assert parse_json_body(event(json.dumps(body))) == body


# --------------------------------------------------------------------------- odd JSON and encodings


def problem_code(body: str | bytes, b64: bool = False) -> str:
    with pytest.raises(BadRequest) as error:
        parse_json_body(event(body, b64=b64))
    assert error.value.status == 400
    return error.value.code


def test_nesting_is_capped_without_a_recursion_error():
    assert problem_code("[" * 5000 + "]" * 5000) == "nesting_too_deep"
    assert problem_code('{"a":' * 5000 + "1" + "}" * 5000) == "nesting_too_deep"
    assert problem_code("[" * 100_000) in ("nesting_too_deep", "malformed_json", "payload_too_large")
    nested: list = []
    for _ in range(31):
        nested = [nested]
    assert parse_json_body(event("[" * 32 + "]" * 32)) == nested
    assert problem_code("[" * 33 + "]" * 33) == "nesting_too_deep"
    # Brackets inside strings are text, not nesting.
    assert parse_json_body(event(json.dumps({"a": "[" * 1000}))) == {"a": "[" * 1000}


def test_duplicate_keys_are_refused_without_echoing_the_key():
    with pytest.raises(BadRequest) as error:
        parse_json_body(event('{"amount": 1, "amount": 2599}'))
    assert error.value.code == "duplicate_key"
    assert "amount" not in error.value.detail
    assert problem_code('{"a": {"b": 1, "b": 1}}') == "duplicate_key"
    assert problem_code('{"a": 1, "\\u0061": 2}') == "duplicate_key"  # the same key once decoded
    assert parse_json_body(event('{"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}]}')) == {
        "a": {"a": 1},
        "b": [{"a": 1}, {"a": 2}],
    }


def test_invalid_utf8_is_refused():
    assert problem_code(b'{"a": "caf\xe9"}', b64=True) == "malformed_body"
    assert problem_code(b'{"a": "\xed\xa0\x80"}', b64=True) == "malformed_body"  # an encoded surrogate
    # API Gateway hands invalid bytes of a text body on as U+FFFD replacement characters.
    assert problem_code('{"a": "caf\ufffd"}') == "malformed_body"
    assert problem_code(b'{"a": "caf\xef\xbf\xbd"}', b64=True) == "malformed_body"
    # An unpaired surrogate escape decodes to no character at all.
    assert problem_code('{"a": "\\ud800"}') == "malformed_json"
    assert problem_code('{"\\udfff": 1}') == "malformed_json"
    assert parse_json_body(event('{"a": "\\ud83d\\ude00"}')) == {"a": "\U0001f600"}


def test_a_text_body_that_cannot_be_utf8_is_refused():
    with pytest.raises(BadRequest) as error:
        parse_json_body({"body": '{"a": "\ud800"}', "isBase64Encoded": False})
    assert error.value.code == "malformed_body"


def test_a_body_that_is_not_text_is_refused():
    for body in ({"a": 1}, ["a"], 12):
        with pytest.raises(BadRequest) as error:
            parse_json_body({"body": body, "isBase64Encoded": False})
        assert error.value.code == "malformed_body"


# --------------------------------------------------------------------------- media type


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "APPLICATION/JSON",
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
        'application/json; charset="utf-8"',
        "application/json;",
        " application/json ",
        "application/problem+json",
        "application/vnd.api+json; charset=utf-8",
    ],
)
def test_json_media_types(content_type):
    assert is_json_media_type(content_type)


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "",
        "text/plain",
        "text/json",
        "multipart/form-data",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
        "application/jsonx",
        "application/json-seq",
        "application/+json",
        "application/json; charset=latin-1",
        "application/json; charset=utf-16",
        "application/json; boundary=x",
        "application/json; charset",
        "garbage",
        "*/*",
    ],
)
def test_other_media_types(content_type):
    assert not is_json_media_type(content_type)


def request(body, content_type=None, b64=False):
    raw = event(body, b64=b64) if body is not None else {"body": None, "isBase64Encoded": False}
    raw["headers"] = {} if content_type is None else {"Content-Type": content_type}
    return raw


def test_a_body_needs_a_json_media_type_and_no_body_needs_none():
    for content_type in ("text/plain", "multipart/form-data", "application/x-www-form-urlencoded", None):
        with pytest.raises(UnsupportedMediaType) as error:
            guard_request(request('{"a": 1}', content_type))
        assert (error.value.status, error.value.code) == (415, "unsupported_media_type")
        for bodiless in (None, "", "  \n"):
            assert guard_request(request(bodiless, content_type)) == GuardedRequest(has_body=False, body=None)
    assert guard_request(request('{"a": 1}', "application/json; charset=utf-8")).body == {"a": 1}
    assert guard_request(request(b'{"a": 1}', "Application/JSON", b64=True)).body == {"a": 1}
    # multiValueHeaders alone (as some proxies send them)
    multi = {
        "body": "{}",
        "isBase64Encoded": False,
        "multiValueHeaders": {"content-type": ["application/json"]},
    }
    assert guard_request(multi).has_body
