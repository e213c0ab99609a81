"""The raw-request guards through the real handlers (moto and the Stripe emulator behind them): card
numbers in any format, odd JSON, encodings and media types, cursors, DELETE keys and admin claims. Each
refused request answers an RFC 9457 problem and reaches neither DynamoDB nor Stripe."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import boto3
import pytest

from infra.local.apigw import build_rest_event, cognito_claims
from tests.support.api import ApiResponse, call, invoke_event
from tests.support.order_tokens import with_order_token
from tests.support.stripe_webhooks import deliver, stripe_sample

PAN = "4242424242424242"


def pay_body(**overrides: Any) -> dict[str, Any]:
    """cus_alice's payment, with its order's token (raw events here do not go through `call`)."""
    body: dict[str, Any] = {
        "order_id": f"order-{uuid.uuid4().hex[:12]}",
        "amount": 2599,
        "currency": "usd",
        "payment_method_id": "pm_card_visa",
    }
    body.update(overrides)
    return with_order_token(body, "cus_alice")


def nothing_stored(emulator: Any) -> bool:
    items = boto3.client("dynamodb").scan(TableName="payments")["Items"]
    return items == [] and emulator.payment_intents() == []


def assert_problem(response: ApiResponse, status: int, code: str) -> None:
    assert response.status == status, response.raw_body
    assert response.header("Content-Type") == "application/problem+json"
    body = response.body
    assert (body["status"], body["code"]) == (status, code)
    assert body["type"] == f"https://docs.payments.example/problems/{code}"
    assert body["title"]
    assert body["detail"]


def raw_event(
    method: str,
    resource: str,
    path: str,
    *,
    body: str | None,
    content_type: str | None = "application/json",
    base64_body: bytes | None = None,
    claims: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    all_headers = dict(headers or {})
    if content_type is not None:
        all_headers["Content-Type"] = content_type
    if method in ("POST", "PUT", "DELETE"):
        all_headers.setdefault("Idempotency-Key", str(uuid.uuid4()))
    event = build_rest_event(
        method,
        resource,
        path,
        headers=all_headers,
        body=body,
        claims=claims if claims is not None else cognito_claims("cus_alice"),
        path_parameters=path_parameters,
    )
    if base64_body is not None:
        event.update(body=base64.b64encode(base64_body).decode(), isBase64Encoded=True)
    return event


# --------------------------------------------------------------------------- A: card numbers

EVASIONS = [
    "4242 4242 4242 4242 12/29",
    "4242.4242.4242.4242",
    "4242424242424242 123",
    "4242\u00a04242\u00a04242\u00a04242",
    "4242\u202f4242\u202f4242\u202f4242",
    "4242\u20074242\u20074242\u20074242",
    "\uff14\uff12\uff14\uff12\uff14\uff12\uff14\uff12\uff14\uff12\uff14\uff12\uff14\uff12\uff14\uff12",
    "\u0664\u0662\u0664\u0662\u0664\u0662\u0664\u0662\u0664\u0662\u0664\u0662\u0664\u0662\u0664\u0662",
    "4242/4242/4242/4242",
    "4242_4242_4242_4242",
    "4242:4242:4242:4242",
    "4-2-4-2-4-2-4-2-4-2-4-2-4-2-4-2",
    "card 4242424242424242123",
    "5555 5555 5555 4444, exp 12/29, cvc 123",
    "3782 822463 10005 1229",
]


@pytest.mark.parametrize("note", EVASIONS)
def test_a_card_number_in_any_format_reaches_neither_dynamodb_nor_stripe(aws, emulator, capsys, note):
    response = call("POST", "/payments", body=pay_body(description=note))

    assert_problem(response, 400, "card_data_not_accepted")
    assert "4242" not in (response.raw_body or "")
    captured = capsys.readouterr()
    assert "4242" not in captured.out + captured.err
    assert nothing_stored(emulator)


def test_a_card_number_in_metadata_escaped_or_as_a_key_is_refused(aws, emulator):
    escaped = "".join(f"\\u{ord(c):04x}" for c in "4242 4242 4242 4242")
    bodies = [
        json.dumps(pay_body(metadata={"note": "4242.4242.4242.4242"})),
        json.dumps(pay_body(metadata={PAN: "x"})),
        json.dumps(pay_body())[:-1] + f', "description": "{escaped}"}}',
    ]
    for raw in bodies:
        assert_problem(call("POST", "/payments", raw_body=raw), 400, "card_data_not_accepted")
    assert nothing_stored(emulator)


def test_ordinary_payment_bodies_still_pass(aws, emulator):
    body = pay_body(
        description="Order placed 2026-11-26T12:34:56.789012+00:00, 3 items, total 25.99 USD",
        metadata={
            "cart_id": "550e8400-e29b-41d4-a716-446655440000",
            "session": "12345678-1234-4234-8234-123456789012",
            "placed_at": "2026-11-26 12:34:56.789012+00:00",
            "amount": "2,599.00",
            "phone": "+1 555 0100",
        },
    )
    response = call("POST", "/payments", body=body)
    assert response.status == 201, response.body


# --------------------------------------------------------------------------- B: crashes on odd input


def test_json_nested_5000_deep_is_a_400_problem(aws, emulator):
    response = call("POST", "/payments", raw_body="[" * 5000 + "]" * 5000)
    assert_problem(response, 400, "nesting_too_deep")
    deep_object = '{"a":' * 5000 + "1" + "}" * 5000
    assert_problem(call("POST", "/payments", raw_body=deep_object), 400, "nesting_too_deep")
    assert nothing_stored(emulator)


@pytest.mark.parametrize("cursor", ["é", "abc.é", "é.abc", "x" * 10 + ".\u00ff\u00ff", "\u4e2d.\u6587"])
def test_a_non_ascii_cursor_is_invalid_cursor(aws, emulator, cursor):
    from urllib.parse import quote

    for path in ("/payments", "/payment-methods"):
        response = call("GET", path, query=f"cursor={quote(cursor)}")
        assert_problem(response, 400, "invalid_cursor")


# --------------------------------------------------------------------------- C: other odd inputs

UNSUPPORTED = [
    "text/plain",
    "text/plain; charset=utf-8",
    "multipart/form-data",
    "application/x-www-form-urlencoded",
    "garbage",
    "application/jsonx",
    "application/json; charset=latin-1",
    "",
]


@pytest.mark.parametrize("content_type", [*UNSUPPORTED, None])
def test_a_body_that_is_not_declared_json_is_415(aws, emulator, content_type):
    event = raw_event(
        "POST", "/payments", "/payments", body=json.dumps(pay_body()), content_type=content_type
    )
    response = invoke_event("process_payment", event)
    assert_problem(response, 415, "unsupported_media_type")
    assert nothing_stored(emulator)


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "Application/JSON",
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
        'application/json; charset="utf-8"',
        "application/vnd.api+json",
        "application/merge-patch+json; charset=utf-8",
    ],
)
def test_json_media_types_are_accepted(aws, emulator, content_type):
    event = raw_event(
        "POST", "/payments", "/payments", body=json.dumps(pay_body()), content_type=content_type
    )
    response = invoke_event("process_payment", event)
    assert response.status == 201, response.body


def test_bodiless_requests_need_no_content_type(aws, emulator):
    created = call("POST", "/payments", body=pay_body(capture="manual")).body
    admin = cognito_claims("admin-1", admin=True)
    # A POST without a body, whatever it declares, and a GET without any Content-Type.
    for content_type in ("text/plain", None):
        event = raw_event(
            "GET",
            "/payments/{payment_id}",
            f"/payments/{created['id']}",
            body=None,
            content_type=content_type,
            path_parameters={"payment_id": created["id"]},
        )
        assert invoke_event("get_payment", event).status == 200
    event = raw_event(
        "POST",
        "/payments/{payment_id}/capture",
        f"/payments/{created['id']}/capture",
        body=None,
        content_type="text/plain",
        claims=admin,
        path_parameters={"payment_id": created["id"]},
    )
    captured = invoke_event("capture_payment", event)
    assert (captured.status, captured.body["status"]) == (200, "succeeded")
    event = raw_event(
        "POST",
        "/payments/{payment_id}/refunds",
        f"/payments/{created['id']}/refunds",
        body="  \n",
        content_type="text/plain",
        claims=admin,
        path_parameters={"payment_id": created["id"]},
    )
    refunded = invoke_event("refund_payment", event)
    assert (refunded.status, refunded.body["amount"]) == (201, 2599)


def test_the_stripe_webhook_keeps_accepting_stripes_content_type(aws, emulator, bus):
    response = deliver(stripe_sample("charge.dispute.created"))  # application/json; charset=utf-8
    assert response.status == 200, response.body


def test_duplicate_keys_are_refused_and_nothing_is_charged(aws, emulator):
    raw = json.dumps(pay_body(amount=1))[:-1] + ', "amount": 2599}'
    response = call("POST", "/payments", raw_body=raw)
    assert_problem(response, 400, "duplicate_key")
    assert "amount" not in response.body["detail"]  # a key may itself be card data: never echoed
    nested = json.dumps(pay_body())[:-1] + ', "metadata": {"a": "1", "a": "2"}}'
    assert_problem(call("POST", "/payments", raw_body=nested), 400, "duplicate_key")
    assert nothing_stored(emulator)


def test_invalid_utf8_is_a_400(aws, emulator):
    good = json.dumps(pay_body(description="caf\u00e9"), ensure_ascii=False).encode()
    assert b"\xc3\xa9" in good
    for invalid in (good.replace(b"\xc3\xa9", b"\xe9"), good.replace(b"\xc3\xa9", b"\xed\xa0\x80")):
        # base64: the bytes as sent; text: API Gateway hands invalid bytes on as U+FFFD
        as_base64 = raw_event("POST", "/payments", "/payments", body=None, base64_body=invalid)
        assert_problem(invoke_event("process_payment", as_base64), 400, "malformed_body")
        as_text = raw_event("POST", "/payments", "/payments", body=invalid.decode("utf-8", "replace"))
        assert_problem(invoke_event("process_payment", as_text), 400, "malformed_body")
    surrogate = json.dumps(pay_body())[:-1] + ', "description": "\\ud800"}'
    assert_problem(call("POST", "/payments", raw_body=surrogate), 400, "malformed_json")
    assert nothing_stored(emulator)
    # Valid UTF-8 still passes.
    assert (
        invoke_event(
            "process_payment", raw_event("POST", "/payments", "/payments", body=None, base64_body=good)
        ).status
        == 201
    )


def saved_card() -> dict[str, Any]:
    response = call("POST", "/payment-methods", body={"payment_method_id": "pm_card_visa"})
    assert response.status == 201, response.body
    return dict(response.body)


@pytest.mark.parametrize("key", ["", "   "])
def test_a_blank_key_on_delete_is_a_400_that_fits_a_delete(aws, emulator, key):
    card = saved_card()
    response = call("DELETE", f"/payment-methods/{card['id']}", idempotency_key=key)

    assert_problem(response, 400, "idempotency_key_invalid")
    assert "POST" not in response.body["detail"]
    assert "DELETE" in response.body["detail"]
    assert call("GET", f"/payment-methods/{card['id']}").status == 200  # not deleted
    assert call("DELETE", f"/payment-methods/{card['id']}", idempotency_key=None).status == 204


def test_a_blank_key_on_post_is_still_idempotency_key_missing(aws, emulator):
    response = call("POST", "/payments", body=pay_body(), idempotency_key="  ")
    assert_problem(response, 400, "idempotency_key_missing")


def capture_as(groups: Any, payment_id: str) -> ApiResponse:
    claims = {**cognito_claims("someone"), "cognito:groups": groups}
    event = raw_event(
        "POST",
        "/payments/{payment_id}/capture",
        f"/payments/{payment_id}/capture",
        body=None,
        claims=claims,
        path_parameters={"payment_id": payment_id},
    )
    return invoke_event("capture_payment", event)


@pytest.mark.parametrize(
    "groups",
    ["x,payments-admin", "[x,payments-admin]", "[payments-admin", "[[payments-admin]", "payments-admin]"],
)
def test_a_group_whose_name_merely_contains_the_admin_group_grants_nothing(aws, emulator, groups):
    created = call("POST", "/payments", body=pay_body(capture="manual")).body
    assert_problem(capture_as(groups, created["id"]), 403, "forbidden")
    assert emulator.payment_intents()[0]["status"] == "requires_capture"


@pytest.mark.parametrize(
    "groups", ["payments-admin", "[payments-admin]", "[payments-admin other]", ["other", "payments-admin"]]
)
def test_the_admin_group_in_each_flattening_grants_admin(aws, emulator, groups):
    created = call("POST", "/payments", body=pay_body(capture="manual")).body
    captured = capture_as(groups, created["id"])
    assert (captured.status, captured.body["status"]) == (200, "succeeded")
