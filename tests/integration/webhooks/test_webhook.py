"""POST /v1/webhooks/stripe end to end: real signatures (the SDK's signer), Secrets Manager, Powertools
idempotency and EventBridge in moto, the Stripe emulator as Stripe."""

from __future__ import annotations

import base64
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

from payments import services
from tests.support.api import invoke_event
from tests.support.stripe_webhooks import (
    deliver,
    emitted,
    fail_put_events,
    history,
    intent_of,
    journal,
    pay_with_3ds,
    payment,
    signature,
    stripe_sample,
    webhook_request,
)

SUCCEEDED = "payment_intent.succeeded"


def stripe_events_on_bus(bus) -> list[dict]:
    return [e for e in bus.drain() if e["source"] == "stripe"]


def idempotency_records() -> list[dict]:
    return boto3.client("dynamodb").scan(TableName="idempotency")["Items"]


def test_a_verified_event_is_forwarded_as_is(aws, emulator, bus, emitted_metrics):
    event = stripe_sample("charge.dispute.created")
    response = deliver(event)

    assert response.status == 200, response.body
    assert response.body == {"received": True, "id": event["id"], "outcome": "forwarded"}
    (forwarded,) = stripe_events_on_bus(bus)
    assert (forwarded["source"], forwarded["detail-type"]) == ("stripe", "charge.dispute.created")
    assert forwarded["detail"] == event
    metrics = emitted_metrics()
    assert metrics["WebhookEventsForwarded"] == 1
    assert metrics["WebhookLagSeconds"] > 0  # the sample was created in the past


def test_a_base64_encoded_body_is_verified_on_its_bytes(aws, emulator, bus):
    # API Gateway encodes bodies of its binary media types (none configured today, "*/*" tomorrow).
    payload = json.dumps(stripe_sample("charge.dispute.created"))
    request = webhook_request(payload, signature(payload))
    request.update(body=base64.b64encode(payload.encode()).decode(), isBase64Encoded=True)
    assert invoke_event("stripe_webhook", request).status == 200
    assert len(stripe_events_on_bus(bus)) == 1


BAD_SIGNATURES = {
    "missing": lambda p: None,
    "malformed": lambda p: "v1=abc,t=",
    "wrong secret": lambda p: signature(p, secret="whsec_someone_else"),
    "older than 300 s": lambda p: signature(p, timestamp=int(time.time()) - 301),
    "another body's": lambda p: signature(p.replace("evt_", "evt_X")),
}


@pytest.mark.parametrize("case", BAD_SIGNATURES)
def test_a_bad_signature_is_400_and_nothing_is_forwarded(aws, emulator, bus, emitted_metrics, case):
    payload = json.dumps(stripe_sample("charge.dispute.created"))
    response = invoke_event("stripe_webhook", webhook_request(payload, BAD_SIGNATURES[case](payload)))

    assert response.status == 400
    assert response.body["code"] == "signature_invalid"
    assert response.header("Content-Type") == "application/problem+json"
    assert stripe_events_on_bus(bus) == []
    assert emitted_metrics()["WebhookSignatureFailures"] == 1


def test_a_tampered_body_under_a_valid_signature_is_refused(aws, emulator, bus):
    payload = json.dumps(stripe_sample("charge.dispute.created"))
    tampered = payload.replace('"amount": 2599', '"amount": 1')
    assert tampered != payload
    response = invoke_event("stripe_webhook", webhook_request(tampered, signature(payload)))
    assert response.status == 400
    assert stripe_events_on_bus(bus) == []


@pytest.mark.parametrize("payload", ["{not json", "[]", '{"id": "evt_1", "type": "charge.refunded"}'])
def test_a_validly_signed_body_that_is_no_event_is_400(aws, emulator, bus, emitted_metrics, payload):
    response = invoke_event("stripe_webhook", webhook_request(payload, signature(payload)))
    assert response.status == 400
    assert response.body["code"] == "malformed_event"
    assert stripe_events_on_bus(bus) == []
    assert emitted_metrics()["WebhookMalformedEvents"] == 1


def test_the_previous_secret_is_accepted_while_rotating(aws, emulator, bus):
    secrets = boto3.client("secretsmanager")
    new = json.dumps({"current": "whsec_rotated", "previous": "whsec_integration_current"})
    secrets.put_secret_value(SecretId="payments/stripe-webhook-secrets", SecretString=new)
    services.reset()  # the warm function's cache would keep the old value for up to 5 minutes

    assert deliver(stripe_sample("charge.dispute.created"), secret="whsec_rotated").status == 200
    assert deliver(stripe_sample("charge.dispute.updated")).status == 200  # the previous one
    assert deliver(stripe_sample("charge.dispute.closed"), secret="whsec_retired").status == 400
    assert len(stripe_events_on_bus(bus)) == 2


def test_an_unknown_type_is_acknowledged_ignored_and_counted(aws, emulator, bus, emitted_metrics):
    event = {**stripe_sample("charge.dispute.created"), "type": "customer.subscription.created"}
    response = deliver(event)
    assert response.status == 200
    assert response.body["outcome"] == "ignored"
    assert stripe_events_on_bus(bus) == []
    assert idempotency_records() == []
    assert emitted_metrics()["WebhookEventsIgnored"] == 1


def test_an_event_of_the_other_mode_is_refused_and_counted(aws, emulator, bus, emitted_metrics):
    live = {**stripe_sample("charge.dispute.created"), "livemode": True}
    response = deliver(live)
    assert response.status == 400  # Stripe keeps retrying: nothing is lost while the setup is fixed
    assert response.body["code"] == "livemode_mismatch"
    assert stripe_events_on_bus(bus) == []
    assert emitted_metrics()["WebhookWrongMode"] == 1


def test_a_failed_put_events_is_500_and_the_retry_forwards_once(aws, emulator, bus, emitted_metrics):
    event = stripe_sample("charge.dispute.created")
    failures = fail_put_events(times=1)

    first = deliver(event)
    assert first.status == 500
    assert "injected" not in first.raw_body
    assert failures == [1]
    assert idempotency_records() == []  # the failed attempt is not remembered

    retry = deliver(event)
    again = deliver(event)
    assert (retry.status, retry.body["outcome"]) == (200, "forwarded")
    assert (again.status, again.body["outcome"]) == (200, "duplicate")
    assert len(stripe_events_on_bus(bus)) == 1
    assert emitted_metrics()["WebhookFailures"] == 1


def test_a_delivery_while_the_same_event_is_being_forwarded_is_409(aws, emulator, bus):
    event = stripe_sample("charge.dispute.created")
    overlapping: list[int] = []
    fail_put_events(times=1, during=lambda: overlapping.append(deliver(event).status))

    assert deliver(event).status == 500
    assert overlapping == [409]  # Stripe will try it again later
    assert deliver(event).status == 200
    assert len(stripe_events_on_bus(bus)) == 1


def test_the_same_event_five_times_at_once_is_one_bus_event_one_change_one_entry(
    aws, emulator, bus, dispatcher
):
    started = pay_with_3ds()
    emulator.authenticate_payment_intent(intent_of(started["id"], emulator)["id"], succeed=True)
    event = emitted(emulator, SUCCEEDED, intent_of(started["id"], emulator)["id"])
    payload = json.dumps(event, indent=2)
    barrier = threading.Barrier(5)

    def deliver_at_once(_):
        barrier.wait()
        return invoke_event("stripe_webhook", webhook_request(payload, signature(payload)))

    with ThreadPoolExecutor(max_workers=5) as pool:
        statuses = [r.status for r in pool.map(deliver_at_once, range(5))]
    assert 200 in statuses, statuses
    assert set(statuses) <= {200, 409}, statuses  # 409: another delivery holds the event
    assert deliver(payload).body["outcome"] == "duplicate"  # and Stripe's retries of the 409s
    dispatcher.drain()

    assert len(stripe_events_on_bus(bus)) == 1
    assert history(started["id"]) == ["PaymentInitiated", "PaymentRequiresAction", "PaymentProcessed"]
    assert payment(started["id"])["status"] == "succeeded"
    (entry,) = journal()
    assert (entry.source, entry.payment_id) == ("PaymentProcessed", started["id"])


def test_an_event_too_large_for_the_bus_is_forwarded_slimmed_and_completed_from_stripe(
    aws, emulator, bus, dispatcher, emitted_metrics
):
    started = pay_with_3ds()
    intent_id = intent_of(started["id"], emulator)["id"]
    emulator.authenticate_payment_intent(intent_id, succeed=True)
    event = emitted(emulator, SUCCEEDED, intent_id)
    event["data"]["object"]["shipping"] = {"address": {"line1": "x" * 300_000}}  # over 256 KB

    assert deliver(event).status == 200
    (forwarded,) = stripe_events_on_bus(bus)
    assert forwarded["detail"]["payments_slimmed"] is True
    assert "shipping" not in forwarded["detail"]["data"]["object"]
    assert emitted_metrics()["WebhookEventsSlimmed"] == 1
    # The subscriber fetches the whole event from Stripe and applies it as usual.
    assert {d.outcome for d in dispatcher.drain() if d.function == "payment_status"} == {"ok"}
    assert payment(started["id"])["status"] == "succeeded"
