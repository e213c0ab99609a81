"""Idempotency as Stripe does it: saved 500s, lost answers, forgotten keys, keys still in flight."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
import stripe

from infra.local.stripe_emulator import StripeEmulator

from .conftest import control, make_client, raw_request

PARAMS: stripe.params.PaymentIntentCreateParams = {
    "amount": 2000,
    "currency": "usd",
    "payment_method": "pm_card_visa",
    "confirm": True,
    "metadata": {"payment_id": "pay_1"},
}


def _create(client: stripe.StripeClient, key: str) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": key})


def test_other_parameters_with_a_used_key_are_stripes_idempotency_error(client: stripe.StripeClient) -> None:
    _create(client, "order-1")

    with pytest.raises(stripe.IdempotencyError) as raised:
        client.v1.payment_intents.create(
            params={**PARAMS, "amount": 2500}, options={"idempotency_key": "order-1"}
        )

    assert raised.value.http_status == 400
    assert raised.value.error is not None
    assert raised.value.error.type == "idempotency_error"
    assert raised.value.user_message == (
        "Keys for idempotent requests can only be used with the same parameters they were first used "
        "with. Try using a key other than 'order-1' if you meant to execute a different request."
    )


def test_a_dropped_response_executed_and_its_retry_replays(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    emu.inject_fault(method="POST", path_prefix="/v1/payment_intents", kind="drop_response")

    with pytest.raises(stripe.APIConnectionError):
        _create(client, "lost-answer")
    [intent] = emu.payment_intents()
    retried = _create(client, "lost-answer")

    assert intent["status"] == "succeeded"  # it ran: state, events and the saved result
    assert [event["type"] for event in emu.events()] == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
    ]
    assert retried.id == intent["id"]
    assert retried.last_response is not None
    assert retried.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(emu.payment_intents()) == 1


def test_a_dropped_response_without_a_key_still_executed(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    control(emu, "faults", {"method": "POST", "path_prefix": "/v1/customers", "kind": "drop_response"})

    with pytest.raises(stripe.APIConnectionError):
        client.v1.customers.create(params={"email": "lost@example.com"})

    assert [customer["email"] for customer in emu.customers()] == ["lost@example.com"]


def test_a_500_after_executing_is_saved_and_replayed(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    control(emu, "faults", {"kind": "api_error", "when": "after"})

    errors = []
    for _ in range(2):
        with pytest.raises(stripe.APIError) as raised:
            _create(client, "saved-500")
        errors.append(raised.value)

    first, replay = errors
    assert first.http_status == replay.http_status == 500
    assert first.http_body == replay.http_body
    assert first.headers is not None
    assert replay.headers is not None
    assert first.headers["Stripe-Should-Retry"] == "false"  # the SDK will not retry it by itself
    assert replay.headers["Idempotent-Replayed"] == "true"
    [intent] = emu.payment_intents()  # the payment went through all the same
    assert intent["status"] == "succeeded"


def test_a_500_before_executing_is_not_saved(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    emu.inject_fault(kind="api_error")  # when="before" is the default

    with pytest.raises(stripe.APIError) as raised:
        _create(client, "early-500")
    retried = _create(client, "early-500")

    assert raised.value.headers is not None
    assert "Stripe-Should-Retry" not in raised.value.headers
    assert emu.payment_intents()[0]["id"] == retried.id
    assert retried.last_response is not None
    assert "Idempotent-Replayed" not in retried.last_response.headers


def test_only_api_error_can_happen_after_executing(emu: StripeEmulator) -> None:
    assert control(emu, "faults", {"kind": "rate_limit", "when": "after"}).status == 400
    assert control(emu, "faults", {"kind": "api_error", "when": "later"}).status == 400
    with pytest.raises(ValueError, match="after"):
        emu.inject_fault(kind="disconnect", when="after")


def test_forgotten_keys_execute_again(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    first = _create(client, "pay_1:create")
    client.v1.customers.create(options={"idempotency_key": "cus-1"})

    none = control(emu, "idempotency/forget", {"prefix": "nothing-"})
    some = control(emu, "idempotency/forget", {"prefix": "pay_1:"})
    again = _create(client, "pay_1:create")
    everything = emu.forget_idempotency_keys()

    assert (none.json(), some.json()) == ({"forgotten": 0}, {"forgotten": 1})
    assert again.id != first.id  # a new request, as Stripe makes once a key is pruned
    assert again.last_response is not None
    assert "Idempotent-Replayed" not in again.last_response.headers
    assert len(emu.payment_intents()) == 2
    assert everything == 2  # the new pay_1:create and cus-1


def test_a_key_in_flight_is_a_409_and_other_keys_go_ahead(emu: StripeEmulator) -> None:
    emu.inject_fault(method="POST", path_prefix="/v1/payment_intents", kind="hold")
    clients = [make_client(emu) for _ in range(3)]
    with ThreadPoolExecutor(1) as pool:
        held: Future[stripe.PaymentIntent] = pool.submit(_create, clients[0], "busy")
        assert emu.wait_for_held(timeout=5)

        with pytest.raises(stripe.APIError) as raised:
            _create(clients[1], "busy")
        other = _create(clients[2], "free")  # only the held request waits
        assert emu.payment_intents()[0]["id"] == other.id

        released = control(emu, "faults/release")
        original = held.result(timeout=10)

    replay = _create(clients[1], "busy")
    assert raised.value.http_status == 409
    assert raised.value.error is not None
    assert raised.value.error.code == "idempotency_key_in_use"
    assert raised.value.error.type == "invalid_request_error"
    assert "another in-progress request using this Idempotent Key" in str(raised.value.user_message)
    assert released.json() == {"released": 1}
    assert replay.id == original.id
    assert len(emu.payment_intents()) == 2


def test_a_409_is_not_saved_for_the_key(emu: StripeEmulator) -> None:
    emu.inject_fault(method="POST", path_prefix="/v1/customers", kind="hold")
    headers = {"Idempotency-Key": "cus-busy"}
    results: list[int] = []
    worker = threading.Thread(
        target=lambda: results.append(
            raw_request(emu.url, "POST", "/v1/customers", body="name=first", headers=headers).status
        )
    )
    worker.start()
    try:
        assert emu.wait_for_held(timeout=5)
        conflict = raw_request(emu.url, "POST", "/v1/customers", body="name=first", headers=headers)
    finally:
        emu.release_held()
        worker.join(timeout=10)
    after = raw_request(emu.url, "POST", "/v1/customers", body="name=first", headers=headers)

    assert conflict.status == 409
    assert results == [200]
    assert after.headers["Idempotent-Replayed"] == "true"
    assert len(emu.customers()) == 1


def test_reset_releases_held_requests(emu: StripeEmulator) -> None:
    emu.inject_fault(method="GET", path_prefix="/v1/customers", kind="hold")
    results: list[int] = []
    worker = threading.Thread(
        target=lambda: results.append(raw_request(emu.url, "GET", "/v1/customers").status)
    )
    worker.start()
    assert emu.wait_for_held(timeout=5)

    emu.reset()
    worker.join(timeout=10)

    assert results == [200]
    assert emu.wait_for_held(timeout=0.01) is False
