"""Events over the API and signed webhook delivery with retries."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

from infra.local.stripe_emulator import StripeEmulator

from .conftest import Receiver, control, make_client, pay

SECRET = "whsec_test_secret"


@pytest.fixture
def hooked(receiver: Receiver) -> Iterator[StripeEmulator]:
    """An emulator of its own (webhook endpoints outlive reset) delivering to `receiver`."""
    emulator = StripeEmulator(webhook_endpoints=[(receiver.url, SECRET)], webhook_retry_delays=(0.05, 0.05))
    with emulator:
        yield emulator


def test_events_are_readable_over_the_api(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    intent = pay(client)

    events = client.v1.events.list()
    succeeded = client.v1.events.list(params={"type": "payment_intent.succeeded"}).data
    wildcard = client.v1.events.list(params={"type": "payment_intent.*"}).data
    fetched = client.v1.events.retrieve(succeeded[0].id)

    assert [event.type for event in events.data] == [
        "payment_intent.succeeded",
        "charge.succeeded",
        "payment_intent.created",
    ]
    assert [event.type for event in wildcard] == ["payment_intent.succeeded", "payment_intent.created"]
    assert fetched.data.object["id"] == intent.id
    assert fetched.data.object["status"] == "succeeded"
    assert fetched.api_version
    assert fetched.livemode is False
    assert fetched.object == "event"
    assert [event["id"] for event in emu.events()] == [event.id for event in reversed(events.data)]


def test_event_snapshots_are_frozen_at_creation(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    intent = pay(client, capture_method="manual")
    client.v1.payment_intents.capture(intent.id)

    capturable = emu.events("payment_intent.amount_capturable_updated")[0]["data"]["object"]
    succeeded = emu.events("payment_intent.succeeded")[0]["data"]["object"]

    assert (capturable["status"], capturable["amount_capturable"]) == ("requires_capture", 2000)
    assert (succeeded["status"], succeeded["amount_capturable"]) == ("succeeded", 0)
    assert not any(key.startswith("_") for key in succeeded)


def test_webhooks_are_signed_so_the_sdk_verifies_them(hooked: StripeEmulator, receiver: Receiver) -> None:
    pay(make_client(hooked))

    assert hooked.wait_for_webhooks(timeout=5)
    assert [event["type"] for event in receiver.events()] == [event["type"] for event in hooked.events()]
    for headers, body in receiver.deliveries:
        assert headers["Content-Type"] == "application/json; charset=utf-8"
        event = stripe.Webhook.construct_event(body, headers["Stripe-Signature"], SECRET)
        assert event.id.startswith("evt_")
    headers, body = receiver.deliveries[0]
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, headers["Stripe-Signature"], "whsec_wrong")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body.replace(b"evt_", b"evt_X"), headers["Stripe-Signature"], SECRET)


def test_failed_deliveries_are_retried(hooked: StripeEmulator, receiver: Receiver) -> None:
    receiver.statuses.extend([500])
    make_client(hooked).v1.customers.create()

    assert hooked.wait_for_webhooks(timeout=5)
    event_ids = [event["id"] for event in receiver.events()]
    [event] = hooked.events()
    assert event_ids == [event["id"], event["id"]]
    assert event["pending_webhooks"] == 0


def test_deliveries_are_given_up_after_the_last_retry_and_order_is_kept(
    hooked: StripeEmulator, receiver: Receiver
) -> None:
    receiver.statuses.extend([500, 503, 404])  # the first event fails all three attempts
    client = make_client(hooked)
    client.v1.customers.create()
    client.v1.customers.create()

    assert hooked.wait_for_webhooks(timeout=5)
    first, second = hooked.events()
    assert [event["id"] for event in receiver.events()] == [first["id"]] * 3 + [second["id"]]
    assert (first["pending_webhooks"], second["pending_webhooks"]) == (1, 0)


def test_an_unreachable_endpoint_does_not_block_the_api(receiver: Receiver) -> None:
    dead = "http://127.0.0.1:9/unreachable"  # discard port: connection refused
    with StripeEmulator(webhook_endpoints=[(dead, SECRET)], webhook_retry_delays=(0.05,)) as emulator:
        emulator.add_webhook_endpoint(receiver.url, SECRET)
        make_client(emulator).v1.customers.create()

        assert emulator.wait_for_webhooks(timeout=5)
        assert len(receiver.deliveries) == 1


def test_endpoints_can_be_added_over_http(receiver: Receiver) -> None:
    with StripeEmulator() as emulator:
        response = control(emulator, "webhook_endpoints", {"url": receiver.url, "secret": SECRET})
        make_client(emulator).v1.customers.create()

        assert response.status == 200
        assert emulator.wait_for_webhooks(timeout=5)
        assert [event["type"] for event in receiver.events()] == ["customer.created"]


def test_wait_for_webhooks_times_out_while_deliveries_are_pending(receiver: Receiver) -> None:
    receiver.statuses.extend([500])
    with StripeEmulator(webhook_endpoints=[(receiver.url, SECRET)], webhook_retry_delays=(2.0,)) as emulator:
        make_client(emulator).v1.customers.create()

        assert emulator.wait_for_webhooks(timeout=0.3) is False
        emulator.reset()  # drops the pending retry
        assert emulator.wait_for_webhooks(timeout=2)
