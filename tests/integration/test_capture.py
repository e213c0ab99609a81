"""Capture, all of it or part of it, and authorizations that expire at Stripe uncaptured: the handler,
the use case, moto and the Stripe emulator (its webhooks through the real chain where Stripe speaks)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.api import call
from tests.support.stripe_webhooks import history, intent_of, payment

ADMIN = {"sub": "admin-1", "admin": True}


def pay(**overrides: Any) -> dict[str, Any]:
    """A payment for cus_alice, made by the back office (which states the amount itself)."""
    body = {"order_id": f"order-{uuid.uuid4().hex[:12]}", "amount": 10_000, "currency": "usd",
            "payment_method_id": "pm_card_visa", "customer_id": "cus_alice", **overrides}  # fmt: skip
    response = call("POST", "/payments", body=body, **ADMIN)
    assert response.status == 201, response.body
    return dict(response.body)


def capture(payment_id: str, body: Any = None, **kwargs: Any) -> Any:
    return call("POST", f"/payments/{payment_id}/capture", body=body, **{**ADMIN, **kwargs})


def authorized(amount: int = 10_000, **overrides: Any) -> dict[str, Any]:
    held = pay(capture="manual", amount=amount, **overrides)
    assert held["status"] == "requires_capture", held
    return held


def captured_event(payment_id: str) -> dict[str, Any]:
    events = call("GET", f"/payments/{payment_id}/events", **ADMIN).body["data"]
    (event,) = [e for e in events if e["event_type"] == "PaymentCaptured"]
    return dict(event)


# --------------------------------------------------------------------------- partial and full capture


def test_capture_60_of_100_captures_60_and_stripe_releases_the_rest(aws, emulator, bus):
    held = authorized(10_000)

    answer = capture(held["id"], {"amount": 6_000})

    assert answer.status == 200, answer.body
    assert (answer.body["status"], answer.body["amount"], answer.body["amount_captured"]) == (
        "succeeded",
        10_000,
        6_000,
    )
    intent = intent_of(held["id"], emulator)
    assert (intent["amount_received"], intent["amount_capturable"]) == (6_000, 0)
    (charge,) = emulator.charges()
    assert (charge["amount_captured"], charge["amount_refunded"], charge["captured"]) == (6_000, 4_000, True)
    data = captured_event(held["id"])["data"]
    assert (data["amount_captured"], data["amount_released"]) == (6_000, 4_000)
    assert bus.types() == ["PaymentInitiated", "PaymentAuthorized", "PaymentCaptured"]


def test_capture_without_a_body_takes_the_whole_authorization(aws, emulator):
    held = authorized(10_000)

    answer = capture(held["id"])

    assert answer.status == 200, answer.body
    assert answer.body["amount_captured"] == 10_000
    assert captured_event(held["id"])["data"]["amount_released"] == 0
    assert intent_of(held["id"], emulator)["amount_received"] == 10_000


def test_refunds_cap_at_the_captured_amount(aws, emulator):
    held = authorized(10_000)
    assert capture(held["id"], {"amount": 6_000}).status == 200

    too_much = call("POST", f"/payments/{held['id']}/refunds", body={"amount": 6_001}, **ADMIN)
    everything = call("POST", f"/payments/{held['id']}/refunds", body={}, **ADMIN)

    assert too_much.status == 409, too_much.body
    assert (too_much.body["code"], too_much.body["refundable_amount"]) == ("amount_exceeds_refundable", 6_000)
    assert everything.status == 201, everything.body
    assert everything.body["amount"] == 6_000
    after = payment(held["id"])
    assert (after["status"], after["amount_refunded"]) == ("refunded", 6_000)
    (charge,) = emulator.charges()
    assert (charge["amount_refunded"], charge["refunded"]) == (10_000, True)  # released 4,000 + 6,000


# --------------------------------------------------------------------------- what capture refuses


@pytest.mark.parametrize(
    ("amount", "status", "code"),
    [
        (10_001, 409, "amount_exceeds_capturable"),  # more than authorized
        (0, 400, "validation_error"),
        (-1, 400, "validation_error"),
        (60.0, 400, "validation_error"),  # a float, even a whole one
        (6_000.5, 400, "validation_error"),
        ("6000", 400, "validation_error"),
        (True, 400, "validation_error"),
        (100_000_000, 400, "validation_error"),  # beyond any amount
    ],
)
def test_bad_capture_amounts_are_refused_and_change_nothing(aws, emulator, amount, status, code):
    held = authorized(10_000)

    answer = capture(held["id"], {"amount": amount})

    assert answer.status == status, answer.body
    assert answer.body["code"] == code
    assert answer.body.get("param", "amount") == "amount"
    assert intent_of(held["id"], emulator)["status"] == "requires_capture"
    assert payment(held["id"])["status"] == "requires_capture"


def test_more_than_authorized_names_the_capturable_amount(aws, emulator):
    held = authorized(10_000)

    answer = capture(held["id"], {"amount": 10_001})

    assert (answer.body["capturable_amount"], answer.body["payment_id"]) == (10_000, held["id"])


def test_unknown_fields_in_the_body_are_refused(aws, emulator):
    held = authorized(10_000)

    answer = capture(held["id"], {"amount": 6_000, "currency": "usd"})

    assert (answer.status, answer.body["code"]) == (400, "validation_error")


def test_a_three_decimal_currency_captures_in_tens(aws, emulator):
    held = authorized(10_000, currency="kwd")

    assert capture(held["id"], {"amount": 6_005}).status == 400
    assert capture(held["id"], {"amount": 6_000}).body["amount_captured"] == 6_000


def test_a_second_capture_is_refused_and_the_same_request_replays(aws, emulator):
    held = authorized(10_000)
    first = capture(held["id"], {"amount": 6_000}, idempotency_key="capture-key-1")

    replayed = capture(held["id"], {"amount": 6_000}, idempotency_key="capture-key-1")
    other_amount_same_key = capture(held["id"], {"amount": 5_000}, idempotency_key="capture-key-1")
    second = capture(held["id"], {"amount": 4_000})

    assert first.status == replayed.status == 200
    assert replayed.header("Idempotent-Replayed") == "true"
    assert replayed.body == first.body
    assert (other_amount_same_key.status, other_amount_same_key.body["code"]) == (
        422,
        "idempotency_key_reused",
    )
    assert (second.status, second.body["code"]) == (409, "payment_not_capturable")
    assert payment(held["id"])["amount_captured"] == 6_000
    assert intent_of(held["id"], emulator)["amount_received"] == 6_000
    assert history(held["id"]).count("PaymentCaptured") == 1


@pytest.mark.parametrize(("retried_amount", "status"), [(6_000, 200), (5_000, 409)])
def test_a_capture_retried_after_stripe_captured_records_it_once(aws, emulator, retried_amount, status):
    """A crash after Stripe captured 6,000, before our write, and Stripe forgot the key: the retry (a
    new Stripe key either way) meets the captured intent and records what Stripe did. A retry of the
    same amount answers the capture; one of another amount is refused."""
    held = authorized(10_000)
    crashes = {"left": 1}

    def crash_once(**kwargs: Any) -> None:
        if crashes["left"] and "PaymentCaptured" in str(kwargs.get("params", {}).get("TransactItems", "")):
            crashes["left"] -= 1
            raise RuntimeError("injected crash before our write")

    from payments.adapters import aws as aws_clients

    aws_clients.client("dynamodb").meta.events.register(
        "before-parameter-build.dynamodb.TransactWriteItems", crash_once
    )
    crashed = capture(held["id"], {"amount": 6_000}, idempotency_key="capture-crash")
    assert crashed.status == 500
    assert payment(held["id"])["status"] == "requires_capture"
    assert emulator.forget_idempotency_keys() > 0

    retried = capture(held["id"], {"amount": retried_amount})

    assert retried.status == status, retried.body
    after = payment(held["id"])
    assert (after["status"], after["amount_captured"]) == ("succeeded", 6_000)
    assert intent_of(held["id"], emulator)["amount_received"] == 6_000
    assert history(held["id"]).count("PaymentCaptured") == 1
    if status == 409:
        assert retried.body["code"] == "payment_not_capturable"


def test_an_automatic_payment_cannot_be_captured(aws, emulator):
    paid = pay()

    answer = capture(paid["id"], {"amount": 5_000})

    assert (answer.status, answer.body["code"]) == (409, "payment_not_capturable")
    assert payment(paid["id"])["amount_captured"] == 10_000


def test_customers_cannot_capture(aws, emulator):
    held = authorized(10_000)

    answer = call("POST", f"/payments/{held['id']}/capture", body={"amount": 6_000})

    assert answer.status == 403
    assert intent_of(held["id"], emulator)["status"] == "requires_capture"


# --------------------------------------------------------------------------- authorizations that expire


def test_an_expired_authorization_cancels_the_payment_from_stripes_news_and_frees_the_order(
    stripe_chain, dispatcher
):
    held = authorized(10_000)
    intent_id = intent_of(held["id"], stripe_chain)["id"]

    expired = stripe_chain.expire_authorization(intent_id)
    assert stripe_chain.wait_for_webhooks(timeout=10)
    deliveries = dispatcher.drain()

    assert (expired["status"], expired["cancellation_reason"]) == ("canceled", "automatic")
    assert {d.outcome for d in deliveries if d.function == "payment_status"} == {"ok"}
    after = payment(held["id"])
    assert after["status"] == "canceled"
    assert after["failure"]["code"] == "authorization_expired"
    assert history(held["id"]) == ["PaymentInitiated", "PaymentAuthorized", "PaymentCanceled"]
    (charge,) = stripe_chain.charges()
    assert (charge["refunded"], charge["amount_refunded"], charge["captured"]) == (True, 10_000, False)
    # The order is free: a new payment for it goes through.
    again = call("POST", "/payments", body=_same_order(held), **ADMIN)
    assert again.status == 201, again.body
    assert again.body["id"] != held["id"]


def test_capturing_an_authorization_that_expired_records_the_expiry(aws, emulator):
    """Stripe's news of the expiry has not arrived yet: the capture learns it from Stripe."""
    held = authorized(10_000)
    emulator.expire_authorization(intent_of(held["id"], emulator)["id"])

    answer = capture(held["id"], {"amount": 6_000})

    assert (answer.status, answer.body["code"]) == (409, "payment_not_capturable")
    after = payment(held["id"])
    assert (after["status"], after["failure"]["code"]) == ("canceled", "authorization_expired")
    assert call("POST", "/payments", body=_same_order(held), **ADMIN).status == 201


def _same_order(held: dict[str, Any]) -> dict[str, Any]:
    return {"order_id": held["order_id"], "amount": held["amount"], "currency": held["currency"],
            "payment_method_id": "pm_card_visa", "customer_id": held["customer_id"]}  # fmt: skip
