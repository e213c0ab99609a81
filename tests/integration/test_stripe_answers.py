"""Stripe's answers taken as they are: a decline when a card is attached is a decline, a refused
parameter is named as the client sent it, a missing money field is an error (never a zero), and a
DynamoDB transaction that keeps meeting others after Stripe charged answers 503 and resumes."""

from __future__ import annotations

import uuid

import pytest
import stripe

from payments.adapters.dynamodb.payments import TRANSACT_ATTEMPTS
from payments.adapters.stripe.gateway import intent_snapshot, translate
from payments.domain.errors import CardDeclined, ProviderRejected
from tests.support.api import call
from tests.support.bus import put_stripe_event
from tests.support.dynamodb_faults import cancel_transactions
from tests.support.stripe_webhooks import history, intent_of, pay_with_3ds, payment, stripe_sample


def test_a_card_declined_at_attach_is_402_card_declined_with_its_decline_code(aws, emulator):
    response = call(
        "POST", "/payment-methods", body={"payment_method_id": "pm_card_chargeDeclinedInsufficientFunds"}
    )
    assert response.status == 402, response.body
    assert (response.body["code"], response.body["decline_code"]) == ("card_declined", "insufficient_funds")
    assert response.headers.get("Retry-After") is None  # not a fault to retry


def test_a_card_that_attaches_then_declines_is_saved_and_its_charge_declined(aws, emulator):
    saved = call("POST", "/payment-methods", body={"payment_method_id": "pm_card_chargeCustomerFail"})
    assert saved.status == 201, saved.body
    charge = call(
        "POST",
        "/payments",
        body={
            "order_id": f"o-{uuid.uuid4().hex[:8]}",
            "amount": 2_000,
            "currency": "usd",
            "payment_method_id": saved.body["id"],
        },
    )
    assert charge.status == 402, charge.body
    assert charge.body["code"] == "card_declined"


def test_a_refused_parameter_is_named_as_the_client_sent_it():
    missing = stripe.InvalidRequestError("No such PaymentMethod", "payment_method", code="resource_missing")
    assert translate(missing).extra["param"] == "payment_method_id"
    other = stripe.InvalidRequestError("Invalid URL", "return_url", code="url_invalid")
    refused = translate(other)
    assert isinstance(refused, ProviderRejected)
    assert (refused.code, refused.extra["param"]) == ("invalid_request", "return_url")
    declined = stripe.CardError("Your card was declined.", None, "card_declined")
    assert isinstance(translate(declined), CardDeclined)


@pytest.mark.parametrize(
    ("status", "field"), [("succeeded", "amount_received"), ("requires_capture", "amount_capturable")]
)
def test_a_missing_money_field_is_an_error_not_a_zero(status, field):
    intent = {
        "id": "pi_1",
        "object": "payment_intent",
        "status": status,
        "amount_received": 10,
        "amount_capturable": 10,
    }
    del intent[field]
    from payments.domain.errors import ProviderResponseIncomplete

    with pytest.raises(ProviderResponseIncomplete):
        intent_snapshot(intent)


def test_a_success_without_amount_received_is_retried_then_parked_not_booked(
    aws, emulator, dispatcher, emitted_metrics
):
    started = pay_with_3ds()
    event = stripe_sample("payment_intent.succeeded")
    event["id"] = "evt_nomoney"
    intent = event["data"]["object"]
    intent.update(id=intent_of(started["id"], emulator)["id"], metadata={"payment_id": started["id"]})
    del intent["amount_received"]
    put_stripe_event(event)
    assert [d.outcome for d in dispatcher.drain() if d.function == "payment_status"] == [
        "retry",
        "retry",
        "dlq",
    ]
    assert payment(started["id"])["status"] == "requires_action"
    assert "PaymentProcessed" not in history(started["id"])
    assert emitted_metrics().get("StripeMoneyFieldMissing", 0) >= 1


def test_conflicts_after_stripe_charged_answer_503_and_the_same_key_resumes(aws, emulator):
    body = {
        "order_id": "order-conflict",
        "amount": 5_000,
        "currency": "usd",
        "payment_method_id": "pm_card_visa",
    }
    # The create commits; every try to record Stripe's answer meets another transaction.
    injected = cancel_transactions(TRANSACT_ATTEMPTS, "TransactionConflict", after=1)
    first = call("POST", "/payments", body=body, idempotency_key="charge-once")
    assert len(injected) == TRANSACT_ATTEMPTS
    assert first.status == 503, first.body
    assert first.body["code"] == "store_unavailable"

    again = call("POST", "/payments", body=body, idempotency_key="charge-once")
    assert again.status == 201, again.body
    assert again.body["status"] == "succeeded"
    assert len(emulator.payment_intents()) == 1  # Stripe replayed its answer: one charge
