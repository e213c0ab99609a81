"""The whole chain offline: Stripe emulator -> signed webhook over HTTP (with Stripe's retries) ->
stripe_webhook handler -> bus (moto) -> the catalog's rules -> subscribers -> payment and ledger."""

from __future__ import annotations

from tests.support.stripe_webhooks import (
    fail_put_events,
    history,
    intent_of,
    ledger_balances,
    pay_with_3ds,
    payment,
)


def settle(stripe, dispatcher):
    """Stripe has delivered every webhook (retries included) and every subscriber has run."""
    assert stripe.wait_for_webhooks(timeout=10)
    deliveries = dispatcher.drain()
    assert all(d.outcome == "ok" for d in deliveries), [d for d in deliveries if d.outcome != "ok"]
    return deliveries


def test_3d_secure_completes_through_the_webhook(stripe_chain, dispatcher, bus):
    started = pay_with_3ds()
    settle(stripe_chain, dispatcher)
    assert payment(started["id"])["status"] == "requires_action"  # the requires_action webhook: no-op

    stripe_chain.authenticate_payment_intent(intent_of(started["id"], stripe_chain)["id"], succeed=True)
    settle(stripe_chain, dispatcher)

    paid = payment(started["id"])
    assert (paid["status"], paid["amount_captured"], paid["client_secret"]) == ("succeeded", 10_000, None)
    assert history(started["id"]) == ["PaymentInitiated", "PaymentRequiresAction", "PaymentProcessed"]
    published = [e for e in bus.drain() if e["detail-type"] == "PaymentProcessed"]
    assert [e["detail"]["payment_id"] for e in published] == [started["id"]]
    # The webhook named the charge by id; the subscriber fetched Stripe's fee for the ledger.
    assert published[0]["detail"]["data"]["stripe_fee"] == 320
    assert ledger_balances() == {"sales": -10_000, "stripe_balance": 9_680, "stripe_fees": 320}


def test_failed_3d_secure_fails_the_payment(stripe_chain, dispatcher):
    started = pay_with_3ds()
    stripe_chain.authenticate_payment_intent(intent_of(started["id"], stripe_chain)["id"], succeed=False)
    settle(stripe_chain, dispatcher)

    failed = payment(started["id"])
    assert failed["status"] == "failed"
    assert failed["failure"]["code"] == "payment_intent_authentication_failure"
    assert history(started["id"])[-1] == "PaymentFailed"
    assert ledger_balances() == {}


def test_stripe_retries_a_delivery_the_bus_refused(stripe_chain, dispatcher, webhook_endpoint):
    started = pay_with_3ds()
    settle(stripe_chain, dispatcher)
    intent_id = intent_of(started["id"], stripe_chain)["id"]
    failures = fail_put_events(times=1)

    stripe_chain.authenticate_payment_intent(intent_id, succeed=True)
    settle(stripe_chain, dispatcher)

    (succeeded,) = [e["id"] for e in stripe_chain.events("payment_intent.succeeded")]
    assert failures == [1]
    assert [status for event_id, status in webhook_endpoint.answers if event_id == succeeded] == [500, 200]
    assert payment(started["id"])["status"] == "succeeded"
    assert history(started["id"]).count("PaymentProcessed") == 1
