"""One Idempotency-Key, one request: a key reused for another resource or another route is refused
(422 idempotency_key_reused, as Stripe does), while a true retry (same route, resource and body) still
replays the first answer. Handlers run end to end on moto and the Stripe emulator."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.api import ApiResponse, call

ADMIN = {"sub": "admin-1", "admin": True}


def authorized_payment(**overrides: Any) -> dict[str, Any]:
    """A manual-capture payment of cus_alice, authorized and waiting for its capture."""
    body = {
        "order_id": f"order-{uuid.uuid4().hex[:12]}",
        "amount": 2500,
        "currency": "usd",
        "payment_method_id": "pm_card_visa",
        "capture": "manual",
        **overrides,
    }
    response = call("POST", "/payments", body=body)
    assert response.status == 201, response.body
    assert response.body["status"] == "requires_capture"
    return dict(response.body)


def paid(amount: int = 10_000) -> dict[str, Any]:
    body = {
        "order_id": f"order-{uuid.uuid4().hex[:12]}",
        "amount": amount,
        "currency": "usd",
        "payment_method_id": "pm_card_visa",
    }
    response = call("POST", "/payments", body=body)
    assert response.status == 201, response.body
    return dict(response.body)


def status_of(payment_id: str) -> str:
    response = call("GET", f"/payments/{payment_id}", **ADMIN)
    assert response.status == 200, response.body
    return str(response.body["status"])


def assert_key_reused(response: ApiResponse) -> None:
    assert response.status == 422, response.body
    assert response.body["code"] == "idempotency_key_reused"
    assert response.body["type"].endswith("/idempotency_key_reused")
    assert response.header("Content-Type") == "application/problem+json"
    assert response.header("Idempotent-Replayed") is None


def test_capture_of_another_payment_with_the_same_key_is_refused(aws, emulator):
    first, second = authorized_payment(), authorized_payment()

    captured = call("POST", f"/payments/{first['id']}/capture", idempotency_key="cap-1", **ADMIN)
    assert captured.status == 200, captured.body
    other = call("POST", f"/payments/{second['id']}/capture", idempotency_key="cap-1", **ADMIN)

    assert_key_reused(other)
    assert status_of(second["id"]) == "requires_capture"  # never captured
    intents = {i["metadata"]["payment_id"]: i["status"] for i in emulator.payment_intents()}
    assert intents == {first["id"]: "succeeded", second["id"]: "requires_capture"}
    # A true retry still replays the first answer.
    retry = call("POST", f"/payments/{first['id']}/capture", idempotency_key="cap-1", **ADMIN)
    assert (retry.status, retry.body) == (200, captured.body)
    assert retry.header("Idempotent-Replayed") == "true"
    # The second payment is captured with its own key.
    own = call("POST", f"/payments/{second['id']}/capture", idempotency_key="cap-2", **ADMIN)
    assert (own.status, own.body["id"]) == (200, second["id"])


def test_refund_of_another_payment_with_the_same_key_is_refused(aws, emulator):
    first, second = paid(), paid()

    refunded = call(
        "POST", f"/payments/{first['id']}/refunds", body={"amount": 1000}, idempotency_key="rf-1", **ADMIN
    )
    assert refunded.status == 201, refunded.body
    other = call(
        "POST", f"/payments/{second['id']}/refunds", body={"amount": 1000}, idempotency_key="rf-1", **ADMIN
    )

    assert_key_reused(other)
    assert [r["metadata"]["payment_id"] for r in emulator.refunds()] == [first["id"]]
    assert call("GET", f"/payments/{second['id']}", **ADMIN).body["amount_refunded"] == 0
    retry = call(
        "POST", f"/payments/{first['id']}/refunds", body={"amount": 1000}, idempotency_key="rf-1", **ADMIN
    )
    assert (retry.status, retry.body, retry.header("Idempotent-Replayed")) == (201, refunded.body, "true")
    assert len(emulator.refunds()) == 1


def test_refund_without_a_body_of_another_payment_with_the_same_key_is_refused(aws, emulator):
    first, second = paid(), paid()

    assert call("POST", f"/payments/{first['id']}/refunds", idempotency_key="rf-2", **ADMIN).status == 201
    other = call("POST", f"/payments/{second['id']}/refunds", idempotency_key="rf-2", **ADMIN)

    assert_key_reused(other)
    assert [r["metadata"]["payment_id"] for r in emulator.refunds()] == [first["id"]]


def test_cancel_of_another_payment_with_the_same_key_is_refused(aws, emulator):
    first, second = authorized_payment(), authorized_payment()

    canceled = call("POST", f"/payments/{first['id']}/cancel", idempotency_key="cn-1")
    assert (canceled.status, canceled.body["status"]) == (200, "canceled")
    other = call("POST", f"/payments/{second['id']}/cancel", idempotency_key="cn-1")

    assert_key_reused(other)
    assert status_of(second["id"]) == "requires_capture"
    retry = call("POST", f"/payments/{first['id']}/cancel", idempotency_key="cn-1")
    assert (retry.status, retry.body, retry.header("Idempotent-Replayed")) == (200, canceled.body, "true")


def saved_card(pm: str) -> dict[str, Any]:
    response = call("POST", "/payment-methods", body={"payment_method_id": pm})
    assert response.status == 201, response.body
    return dict(response.body)


def test_delete_of_another_card_with_the_same_key_is_refused(aws, emulator):
    visa, mastercard = saved_card("pm_card_visa"), saved_card("pm_card_mastercard")

    deleted = call("DELETE", f"/payment-methods/{visa['id']}", idempotency_key="del-1")
    assert deleted.status == 204
    other = call("DELETE", f"/payment-methods/{mastercard['id']}", idempotency_key="del-1")

    assert_key_reused(other)
    assert call("GET", f"/payment-methods/{mastercard['id']}").status == 200
    assert emulator.get(mastercard["id"])["customer"] is not None  # still attached in Stripe
    retry = call("DELETE", f"/payment-methods/{visa['id']}", idempotency_key="del-1")
    assert (retry.status, retry.header("Idempotent-Replayed")) == (204, "true")


@pytest.mark.parametrize("second_route", ["cancel", "capture", "refund", "pay"])
def test_the_same_key_on_another_route_is_refused(aws, emulator, second_route):
    payment = authorized_payment()
    first = call("POST", f"/payments/{payment['id']}/capture", idempotency_key="k-routes", **ADMIN)
    assert first.status == 200, first.body
    other_payment = authorized_payment()

    if second_route == "cancel":
        answer = call("POST", f"/payments/{other_payment['id']}/cancel", idempotency_key="k-routes", **ADMIN)
    elif second_route == "capture":
        answer = call("POST", f"/payments/{other_payment['id']}/capture", idempotency_key="k-routes", **ADMIN)
    elif second_route == "refund":
        answer = call("POST", f"/payments/{payment['id']}/refunds", idempotency_key="k-routes", **ADMIN)
    else:
        body = {
            "order_id": f"order-{uuid.uuid4().hex[:12]}",
            "amount": 2500,
            "currency": "usd",
            "payment_method_id": "pm_card_visa",
            "customer_id": "cus_alice",
        }
        answer = call("POST", "/payments", body=body, idempotency_key="k-routes", **ADMIN)

    assert_key_reused(answer)
    assert status_of(other_payment["id"]) == "requires_capture"
    assert emulator.refunds() == []


def test_keys_stay_scoped_to_the_caller(aws, emulator):
    """Keys stay scoped to the caller: Bob's key K and Alice's key K are two requests."""
    alices = authorized_payment()
    bob_body = {
        "order_id": f"order-{uuid.uuid4().hex[:12]}",
        "amount": 2500,
        "currency": "usd",
        "payment_method_id": "pm_card_visa",
        "capture": "manual",
    }
    created = call("POST", "/payments", body=bob_body, sub="cus_bob")
    assert created.status == 201, created.body
    bobs = created.body

    assert call("POST", f"/payments/{alices['id']}/cancel", idempotency_key="shared").status == 200
    bob_cancel = call("POST", f"/payments/{bobs['id']}/cancel", idempotency_key="shared", sub="cus_bob")
    assert (bob_cancel.status, bob_cancel.body["id"]) == (200, bobs["id"])
    assert bob_cancel.header("Idempotent-Replayed") is None


def test_a_key_reused_on_a_payment_is_refused_when_the_first_answer_was_an_error(aws, emulator):
    """A stored 4xx answer (409 not capturable) is bound to its resource as well."""
    done, waiting = paid(), authorized_payment()

    refused = call("POST", f"/payments/{done['id']}/capture", idempotency_key="err-1", **ADMIN)
    assert (refused.status, refused.body["code"]) == (409, "payment_not_capturable")
    other = call("POST", f"/payments/{waiting['id']}/capture", idempotency_key="err-1", **ADMIN)

    assert_key_reused(other)
    assert status_of(waiting["id"]) == "requires_capture"
