"""Idempotency keys (replay, conflicts, concurrency) and injected failures."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import stripe

from infra.local.stripe_emulator import StripeEmulator

from .conftest import control, make_client, raw_request

PARAMS: stripe.params.PaymentIntentCreateParams = {
    "amount": 2000,
    "currency": "usd",
    "payment_method": "pm_card_visa",
    "confirm": True,
}


def test_a_replay_returns_the_same_object_byte_for_byte(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    first = client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "order-1"})
    second = client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "order-1"})

    assert first.id == second.id
    assert first.last_response is not None
    assert second.last_response is not None
    assert second.last_response.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.last_response.headers
    assert second.last_response.body == first.last_response.body
    assert second.last_response.headers["Original-Request"] == first.last_response.request_id
    assert len(emu.payment_intents()) == 1
    assert len(emu.events("payment_intent.created")) == 1


def test_events_record_the_request_and_key(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    created = client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "order-2"})

    request = emu.events("payment_intent.created")[0]["request"]
    assert created.last_response is not None
    assert request == {"id": created.last_response.request_id, "idempotency_key": "order-2"}


def test_reusing_a_key_with_other_parameters_is_an_idempotency_error(
    client: stripe.StripeClient, emu: StripeEmulator
) -> None:
    client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "order-3"})

    with pytest.raises(stripe.IdempotencyError) as raised:
        client.v1.payment_intents.create(
            params={**PARAMS, "amount": 2500}, options={"idempotency_key": "order-3"}
        )
    with pytest.raises(stripe.IdempotencyError):
        client.v1.customers.create(options={"idempotency_key": "order-3"})  # other endpoint

    assert raised.value.http_status == 400
    assert "order-3" in str(raised.value.user_message)
    assert len(emu.payment_intents()) == 1


def test_keys_are_scoped_per_api_key(emu: StripeEmulator) -> None:
    body = "amount=2000&currency=usd"
    headers = {"Idempotency-Key": "shared"}
    one = raw_request(
        emu.url, "POST", "/v1/payment_intents", body=body, headers=headers, api_key="sk_test_one"
    )
    two = raw_request(
        emu.url, "POST", "/v1/payment_intents", body=body, headers=headers, api_key="sk_test_two"
    )

    assert one.json()["id"] != two.json()["id"]


def test_declines_are_replayed_too(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    declined: stripe.params.PaymentIntentCreateParams = {**PARAMS, "payment_method": "pm_card_chargeDeclined"}
    errors = []
    for _ in range(2):
        with pytest.raises(stripe.CardError) as raised:
            client.v1.payment_intents.create(params=declined, options={"idempotency_key": "declined"})
        errors.append(raised.value)

    assert errors[0].http_body == errors[1].http_body
    assert errors[1].headers is not None
    assert errors[1].headers["Idempotent-Replayed"] == "true"
    assert len(emu.payment_intents()) == 1
    assert len(emu.charges()) == 1


def test_validation_failures_are_not_saved(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    body = "amount=abc&currency=usd"
    headers = {"Idempotency-Key": "fix-and-retry"}
    rejected = raw_request(emu.url, "POST", "/v1/payment_intents", body=body, headers=headers)
    fixed = raw_request(
        emu.url, "POST", "/v1/payment_intents", body="amount=2000&currency=usd", headers=headers
    )

    assert rejected.status == 400
    assert fixed.status == 200
    assert "Idempotent-Replayed" not in fixed.headers


def test_concurrent_requests_with_one_key_create_exactly_one_object(emu: StripeEmulator) -> None:
    clients = [make_client(emu) for _ in range(8)]
    start = threading.Barrier(len(clients))

    def create(client: stripe.StripeClient) -> str:
        start.wait()
        try:
            return client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": "race"}).id
        except stripe.APIError as error:  # one still in flight: Stripe's 409
            code = error.error.code if error.error else None
            return f"{error.http_status} {code}"

    with ThreadPoolExecutor(len(clients)) as pool:
        outcomes = set(pool.map(create, clients))

    conflicts = {outcome for outcome in outcomes if not outcome.startswith("pi_")}
    assert conflicts <= {"409 idempotency_key_in_use"}
    assert len(outcomes - conflicts) == 1  # whoever got an answer got the same object
    assert len(emu.payment_intents()) == 1
    assert len(emu.charges()) == 1


@pytest.mark.parametrize(
    ("kind", "error", "status"),
    [
        ("rate_limit", stripe.RateLimitError, 429),
        ("api_error", stripe.APIError, 500),
        ("disconnect", stripe.APIConnectionError, None),
    ],
)
def test_injected_faults(
    client: stripe.StripeClient,
    emu: StripeEmulator,
    kind: str,
    error: type[stripe.StripeError],
    status: int | None,
) -> None:
    emu.inject_fault(method="POST", path_prefix="/v1/payment_intents", kind=kind, times=2)

    for _ in range(2):
        with pytest.raises(error) as raised:
            client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": f"retry-{kind}"})
        assert raised.value.http_status == status
    client.v1.customers.create()  # other paths are unaffected
    retried = client.v1.payment_intents.create(params=PARAMS, options={"idempotency_key": f"retry-{kind}"})

    assert retried.status == "succeeded"
    assert retried.last_response is not None
    assert "Idempotent-Replayed" not in retried.last_response.headers
    assert len(emu.payment_intents()) == 1


def test_the_rate_limit_body_is_stripes(emu: StripeEmulator) -> None:
    emu.inject_fault(method="GET", path_prefix="/v1/customers", kind="rate_limit")

    response = raw_request(emu.url, "GET", "/v1/customers")

    assert response.status == 429
    assert response.json()["error"]["code"] == "rate_limit"


def test_faults_can_be_injected_over_http(client: stripe.StripeClient, emu: StripeEmulator) -> None:
    response = control(emu, "faults", {"method": "GET", "path_prefix": "/v1/charges", "kind": "api_error"})

    with pytest.raises(stripe.APIError):
        client.v1.charges.list()
    assert response.status == 200
    assert client.v1.charges.list().data == []
    assert control(emu, "faults", {"kind": "explode"}).status == 400
