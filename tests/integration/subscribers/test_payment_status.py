"""payment_status: Stripe's payment_intent.* events, through the webhook and the catalog's real rule,
applied to the payment as the synchronous answers are (forward only, whatever the order)."""

from __future__ import annotations

import copy

from tests.support.bus import put_stripe_event
from tests.support.stripe_webhooks import (
    deliver,
    emitted,
    history,
    intent_of,
    pay,
    pay_with_3ds,
    payment,
    stripe_sample,
)


def authenticated(emulator, started) -> dict:
    """Complete 3-D Secure in Stripe; the payment_intent.succeeded event it emitted."""
    intent_id = intent_of(started["id"], emulator)["id"]
    emulator.authenticate_payment_intent(intent_id, succeed=True)
    return emitted(emulator, "payment_intent.succeeded", intent_id)


def as_event(base: dict, event_type: str, event_id: str, **intent_fields) -> dict:
    event = copy.deepcopy(base)
    event.update(id=event_id, type=event_type)
    event["data"]["object"].update(intent_fields)
    return event


def outcomes(deliveries, function="payment_status") -> list[str]:
    return [d.outcome for d in deliveries if d.function == function]


def test_a_late_processing_after_succeeded_changes_nothing(aws, emulator, dispatcher):
    started = pay_with_3ds()
    succeeded = authenticated(emulator, started)
    processing = as_event(succeeded, "payment_intent.processing", "evt_lateprocessing", status="processing")

    assert deliver(succeeded).status == 200
    dispatcher.drain()
    assert deliver(processing).status == 200
    assert outcomes(dispatcher.drain()) == ["ok"]

    assert payment(started["id"])["status"] == "succeeded"
    assert history(started["id"]) == ["PaymentInitiated", "PaymentRequiresAction", "PaymentProcessed"]


def test_events_in_reverse_order_end_in_the_same_state(aws, emulator, dispatcher):
    started = pay(capture="manual")  # requires_capture
    intent_id = intent_of(started["id"], emulator)["id"]
    capturable = emitted(emulator, "payment_intent.amount_capturable_updated", intent_id)
    emulator_client_capture(emulator, intent_id)
    succeeded = emitted(emulator, "payment_intent.succeeded", intent_id)

    for event in (succeeded, capturable):  # Stripe's order reversed
        assert deliver(event).status == 200
        dispatcher.drain()

    captured = payment(started["id"])
    assert (captured["status"], captured["amount_captured"]) == ("succeeded", 10_000)
    assert history(started["id"]) == ["PaymentInitiated", "PaymentAuthorized", "PaymentCaptured"]


def emulator_client_capture(emulator, intent_id: str) -> None:
    import stripe

    client = stripe.StripeClient("sk_test_x", base_addresses={"api": emulator.url}, max_network_retries=0)
    client.v1.payment_intents.capture(intent_id)


def test_an_event_for_an_unknown_payment_is_retried_then_parked_in_the_dlq(aws, emulator, dispatcher):
    event = stripe_sample("payment_intent.succeeded")
    event["data"]["object"]["metadata"]["payment_id"] = "pay_notwrittenyet000000000000"
    assert deliver(event).status == 200

    assert outcomes(dispatcher.drain()) == ["retry", "retry", "dlq"]
    dlq = dispatcher.routes["payment_status"][1]
    assert len(dispatcher.sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])) == 1


def test_an_intent_this_service_did_not_make_is_ignored(aws, emulator, dispatcher, emitted_metrics):
    event = stripe_sample("payment_intent.succeeded")
    event["data"]["object"]["metadata"] = {}
    put_stripe_event(event)
    assert outcomes(dispatcher.drain()) == ["ok"]
    assert emitted_metrics()["StripeEventsNotOurs"] == 1


def test_metadata_naming_our_payment_on_another_intent_moves_nothing(aws, emulator, dispatcher):
    started = pay_with_3ds()
    forged = stripe_sample("payment_intent.succeeded")
    forged["data"]["object"]["metadata"]["payment_id"] = started["id"]  # pi_sample01 is not its intent
    put_stripe_event(forged)
    # Money on another intent is checked with Stripe before anything is recorded or given back; Stripe
    # does not know this one, so the event is parked (and alarmed), and the payment is untouched.
    assert outcomes(dispatcher.drain()) == ["retry", "retry", "dlq"]
    assert payment(started["id"])["status"] == "requires_action"
    assert "StrayChargeDetected" not in history(started["id"])


def test_a_bus_event_missing_fields_ends_in_the_dlq(aws, emulator, dispatcher):
    broken = stripe_sample("payment_intent.succeeded")
    del broken["data"]
    put_stripe_event(broken)
    deliveries = dispatcher.drain()
    assert outcomes(deliveries) == ["retry", "retry", "dlq"]
    assert "ValidationError" in deliveries[-1].error
