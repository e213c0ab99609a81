import base64
import json

import pytest

from payments.domain.errors import BadRequest, CardDataNotAccepted
from payments.http.guards import MAX_BODY_BYTES, contains_card_number, luhn_valid, parse_json_body


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
