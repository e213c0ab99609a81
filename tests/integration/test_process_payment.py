"""ProcessPayment end to end: handler -> core -> moto DynamoDB/EventBridge and the Stripe emulator."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest

from tests.support.api import call


def pay_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "order_id": f"order-{uuid.uuid4().hex[:12]}",
        "amount": 2500,
        "currency": "usd",
        "payment_method_id": "pm_card_visa",
    }
    body.update(overrides)
    return body


def stored_items() -> list[dict[str, Any]]:
    return boto3.client("dynamodb").scan(TableName="payments")["Items"]


def test_successful_payment(aws, emulator, bus):
    body = pay_body(currency="USD", metadata={"cart": "c-1"}, description="Two books")
    response = call("POST", "/payments", body=body)

    assert response.status == 201, response.body
    payment = response.body
    assert payment["id"].startswith("pay_")
    assert payment["status"] == "succeeded"
    assert payment["currency"] == "usd"
    assert payment["amount"] == payment["amount_captured"] == 2500
    assert payment["customer_id"] == "cus_alice"
    assert payment["client_secret"] is None
    # Our ids travel to Stripe so that webhooks map back.
    (intent,) = emulator.payment_intents()
    assert intent["metadata"]["payment_id"] == payment["id"]
    assert intent["metadata"]["order_id"] == body["order_id"]
    assert intent["metadata"]["cart"] == "c-1"
    # Published after commit, and nothing left in the outbox.
    assert bus.types() == ["PaymentInitiated", "PaymentProcessed"]
    assert not [i for i in stored_items() if "outbox_pk" in i]

    fetched = call("GET", f"/payments/{payment['id']}")
    assert fetched.status == 200
    assert fetched.body == payment
    history = call("GET", f"/payments/{payment['id']}/events").body["data"]
    assert [e["event_type"] for e in history] == ["PaymentInitiated", "PaymentProcessed"]


def test_replay_returns_first_response_and_reused_key_is_refused(aws, emulator):
    body = pay_body()
    first = call("POST", "/payments", body=body, idempotency_key="key-1")
    again = call("POST", "/payments", body=body, idempotency_key="key-1")
    assert first.status == again.status == 201
    assert again.body == first.body
    assert again.header("Idempotent-Replayed") == "true"
    assert first.header("Idempotent-Replayed") is None
    assert len(emulator.payment_intents()) == 1

    other = call("POST", "/payments", body=pay_body(amount=999), idempotency_key="key-1")
    assert other.status == 422
    assert other.body["code"] == "idempotency_key_reused"

    # Keys are scoped to the caller: Bob may use the same key for his own payment.
    bob = call("POST", "/payments", body=pay_body(), idempotency_key="key-1", sub="cus_bob")
    assert bob.status == 201
    assert bob.body["id"] != first.body["id"]


def test_key_reused_after_its_record_expired_is_still_refused(aws, emulator):
    call("POST", "/payments", body=pay_body(), idempotency_key="old-key")
    db = boto3.client("dynamodb")
    for item in db.scan(TableName="idempotency")["Items"]:  # every record expires
        db.delete_item(TableName="idempotency", Key={"id": item["id"]})
    response = call("POST", "/payments", body=pay_body(amount=5000), idempotency_key="old-key")
    assert response.status == 422
    assert response.body["code"] == "idempotency_key_reused"


def test_missing_idempotency_key(aws, emulator):
    response = call("POST", "/payments", body=pay_body(), idempotency_key=None)
    assert response.status == 400
    assert response.body["code"] == "idempotency_key_missing"
    assert stored_items() == []


BAD_BODIES = [
    ({"amount": 0}, "amount"),
    ({"amount": -5}, "amount"),
    ({"amount": 10.5}, "amount"),
    ({"amount": 1000.0}, "amount"),
    ({"amount": "1000"}, "amount"),
    ({"amount": 100_000_000}, "amount"),
    ({"amount": 49}, "amount"),
    ({"amount": 1005, "currency": "kwd"}, "amount"),
    ({"currency": "xyz"}, "currency"),
    ({"currency": "us"}, "currency"),
    ({"order_id": "has space"}, "order_id"),
    ({"order_id": "x" * 65}, "order_id"),
    ({"order_id": ""}, "order_id"),
    ({"metadata": {f"k{i}": "v" for i in range(21)}}, "metadata"),
    ({"payment_method_id": "card_123"}, "payment_method_id"),
    ({"capture": "later"}, "capture"),
    ({"return_url": "http://insecure.example"}, "return_url"),
    ({"surprise": True}, "surprise"),
]


@pytest.mark.parametrize(("overrides", "field"), BAD_BODIES)
def test_bad_input_is_a_validation_problem_and_writes_nothing(aws, emulator, overrides, field):
    response = call("POST", "/payments", body=pay_body(**overrides))
    assert response.status == 400, response.body
    assert response.header("Content-Type") == "application/problem+json"
    problem = response.body
    assert problem["code"] == "validation_error"
    assert {"type", "title", "status", "detail"} <= problem.keys()
    assert field in [e["field"].split(".")[0] for e in problem["errors"]]
    assert stored_items() == []
    assert emulator.payment_intents() == []


def test_every_bad_field_is_listed(aws, emulator):
    response = call("POST", "/payments", body={"amount": -1, "currency": "nope", "order_id": "bad id"})
    fields = {e["field"] for e in response.body["errors"]}
    assert {"amount", "currency", "order_id", "payment_method_id"} <= fields


@pytest.mark.parametrize(
    ("raw", "code", "status"),
    [("{not json", "malformed_json", 400), ('{"a": "' + "x" * 70_000 + '"}', "payload_too_large", 400)],
)
def test_malformed_or_oversized_body(aws, emulator, raw, code, status):
    response = call("POST", "/payments", raw_body=raw)
    assert response.status == status
    assert response.body["code"] == code


def test_card_number_anywhere_is_refused_and_never_echoed(aws, emulator, capsys):
    body = pay_body(metadata={"note": "4242 4242 4242 4242"})
    response = call("POST", "/payments", body=body)
    assert response.status == 400
    assert response.body["code"] == "card_data_not_accepted"
    assert "4242" not in response.raw_body
    captured = capsys.readouterr()
    assert "4242 4242" not in captured.out + captured.err
    assert stored_items() == []


def test_customer_may_not_set_customer_id_but_admin_may(aws, emulator):
    denied = call("POST", "/payments", body=pay_body(customer_id="cus_bob"))
    assert denied.status == 403
    assert stored_items() == []
    allowed = call("POST", "/payments", body=pay_body(customer_id="cus_bob"), sub="svc-orders", admin=True)
    assert allowed.status == 201
    assert allowed.body["customer_id"] == "cus_bob"
    # ...and Bob now sees it as his.
    assert call("GET", f"/payments/{allowed.body['id']}", sub="cus_bob").status == 200


def test_declined_card_is_402_and_kept_in_history(aws, emulator, bus):
    body = pay_body(payment_method_id="pm_card_chargeDeclinedInsufficientFunds")
    response = call("POST", "/payments", body=body)
    assert response.status == 402
    problem = response.body
    assert problem["code"] == "card_declined"
    assert problem["decline_code"] == "insufficient_funds"
    payment_id = problem["payment_id"]

    payment = call("GET", f"/payments/{payment_id}").body
    assert payment["status"] == "failed"
    assert payment["failure"]["decline_code"] == "insufficient_funds"
    history = call("GET", f"/payments/{payment_id}/events").body["data"]
    assert [e["event_type"] for e in history] == ["PaymentInitiated", "PaymentFailed"]
    assert "PaymentFailed" in bus.types()

    # The failed attempt released the order: a new attempt with another card succeeds.
    retry = call("POST", "/payments", body={**body, "payment_method_id": "pm_card_visa"})
    assert retry.status == 201


def test_unknown_payment_method_fails_cleanly(aws, emulator):
    response = call("POST", "/payments", body=pay_body(payment_method_id="pm_doesNotExist"))
    assert response.status == 400
    assert response.body["code"] == "payment_method_invalid"
    assert response.body["param"] == "payment_method_id"
    payment = call("GET", f"/payments/{response.body['payment_id']}").body
    assert payment["status"] == "failed"


def test_authentication_required_returns_next_action(aws, emulator):
    body = pay_body(
        payment_method_id="pm_card_authenticationRequired", return_url="https://shop.example/done"
    )
    response = call("POST", "/payments", body=body)
    assert response.status == 201
    payment = response.body
    assert payment["status"] == "requires_action"
    assert payment["next_action"]["type"] in ("redirect_to_url", "use_stripe_sdk")
    assert payment["client_secret"].startswith(emulator.payment_intents()[0]["id"])


def test_manual_capture_then_capture(aws, emulator, bus):
    created = call("POST", "/payments", body=pay_body(capture="manual"))
    assert created.status == 201
    assert created.body["status"] == "requires_capture"
    assert created.body["amount_captured"] == 0
    payment_id = created.body["id"]

    # Customers cannot capture.
    assert call("POST", f"/payments/{payment_id}/capture").status == 403
    captured = call("POST", f"/payments/{payment_id}/capture", sub="admin-1", admin=True)
    assert captured.status == 200, captured.body
    assert captured.body["status"] == "succeeded"
    assert captured.body["amount_captured"] == 2500
    assert bus.types() == ["PaymentInitiated", "PaymentAuthorized", "PaymentCaptured"]

    again = call("POST", f"/payments/{payment_id}/capture", sub="admin-1", admin=True)
    assert again.status == 409
    assert again.body["code"] == "payment_not_capturable"
    # Cancel after capture is refused too.
    cancel = call("POST", f"/payments/{payment_id}/cancel")
    assert cancel.status == 409
    assert cancel.body["code"] == "payment_not_cancelable"


def test_owner_cancels_an_authorized_payment_and_the_order_is_free_again(aws, emulator):
    body = pay_body(capture="manual")
    created = call("POST", "/payments", body=body).body
    # Bob cannot even see it.
    assert call("POST", f"/payments/{created['id']}/cancel", sub="cus_bob").status == 404
    canceled = call("POST", f"/payments/{created['id']}/cancel")
    assert canceled.status == 200
    assert canceled.body["status"] == "canceled"
    assert emulator.payment_intents()[0]["status"] == "canceled"
    assert call("POST", "/payments", body=body).status == 201


def test_two_keys_for_one_order_make_one_payment(aws, emulator):
    body = pay_body()
    first = call("POST", "/payments", body=body)
    second = call("POST", "/payments", body=body)
    assert first.status == 201
    assert second.status == 409
    assert second.body["code"] == "order_already_paid"
    assert second.body["payment_id"] == first.body["id"]
    assert len(emulator.payment_intents()) == 1
    # Another customer hitting the same order id learns nothing about the holder.
    third = call("POST", "/payments", body=body, sub="cus_bob")
    assert third.status == 409
    assert "payment_id" not in third.body


def test_concurrent_requests_with_one_key_charge_once(aws, emulator):
    body = pay_body()

    def attempt(_: int):
        return call("POST", "/payments", body=body, idempotency_key="same-key")

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(attempt, range(20)))

    assert len(emulator.payment_intents()) == 1
    created = [r for r in responses if r.status == 201]
    assert created, [r.body for r in responses]
    assert all(r.status in (201, 409) for r in responses), [r.status for r in responses]
    assert all(r.body["code"] == "request_in_progress" for r in responses if r.status == 409)
    assert all(r.header("Retry-After") for r in responses if r.status == 409)
    assert len({r.body["id"] for r in created}) == 1


def test_crash_after_stripe_answered_then_retry_resumes_same_payment(aws, emulator, bus):
    """A crash between Stripe's answer and our write: the retry finds the pending payment and Stripe
    answers with the same PaymentIntent (same idempotency key)."""
    db = boto3.client("dynamodb")
    crashes = {"left": 1}

    def crash_once(**kwargs):
        params = kwargs.get("params", {})
        writes = str(params.get("TransactItems", ""))
        if crashes["left"] and "PaymentProcessed" in writes:
            crashes["left"] -= 1
            raise RuntimeError("injected crash before our write")

    from payments.adapters import aws as aws_clients

    ours = aws_clients.client("dynamodb")
    ours.meta.events.register("before-parameter-build.dynamodb.TransactWriteItems", crash_once)
    body = pay_body()
    crashed = call("POST", "/payments", body=body, idempotency_key="crash-key")
    assert crashed.status == 500
    assert "injected" not in crashed.raw_body
    (intent,) = emulator.payment_intents()
    assert intent["status"] == "succeeded"
    pending = [i for i in db.scan(TableName="payments")["Items"] if i["sk"]["S"] == "STATE"]
    assert pending[0]["status"]["S"] == "pending"

    retried = call("POST", "/payments", body=body, idempotency_key="crash-key")
    assert retried.status == 201, retried.body
    assert retried.body["status"] == "succeeded"
    assert retried.body["id"] == pending[0]["id"]["S"]
    assert len(emulator.payment_intents()) == 1


def test_put_events_failure_is_relayed_by_the_outbox_once(aws, emulator, bus):
    from payments.adapters import aws as aws_clients

    events_client = aws_clients.client("events")

    def refuse(**kwargs):
        raise RuntimeError("injected PutEvents outage")

    events_client.meta.events.register("before-call.events.PutEvents", refuse, unique_id="outage")
    response = call("POST", "/payments", body=pay_body())
    assert response.status == 201  # the payment committed; only the publish failed
    assert bus.types() == []
    assert len([i for i in stored_items() if "outbox_pk" in i]) == 2

    events_client.meta.events.unregister("before-call.events.PutEvents", unique_id="outage")
    from functions.outbox_relay.app import handler as relay
    from tests.support.lambda_context import FakeLambdaContext

    assert relay({}, FakeLambdaContext())["published"] == 2
    assert relay({}, FakeLambdaContext())["published"] == 0
    published = bus.drain()
    ids = [e["detail"]["event_id"] for e in published]
    assert sorted(ids) == sorted(set(ids))
    assert [e["detail-type"] for e in published] == ["PaymentInitiated", "PaymentProcessed"]
    assert not [i for i in stored_items() if "outbox_pk" in i]


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("rate_limit", 429, "rate_limited"),
        ("api_error", 502, "payment_provider_error"),
        ("disconnect", 503, "payment_provider_unavailable"),
    ],
)
def test_stripe_faults_are_clear_problems_and_the_retry_resumes(aws, emulator, bus, kind, status, code):
    body = pay_body()
    emulator.inject_fault(method="POST", path_prefix="/v1/payment_intents", kind=kind, times=1)
    failed = call("POST", "/payments", body=body, idempotency_key="fault-key")
    assert failed.status == status, failed.body
    assert failed.body["code"] == code
    assert "stripe" not in failed.raw_body.lower()  # no provider internals leak
    if status in (429, 503):
        assert failed.header("Retry-After")
    # Nothing was charged, and the fault was not stored as the key's answer: the retry charges once.
    assert emulator.payment_intents() == []
    # The payment written ahead of Stripe is announced even though the request failed after it.
    assert bus.types() == ["PaymentInitiated"]
    retried = call("POST", "/payments", body=body, idempotency_key="fault-key")
    assert retried.status == 201, retried.body
    assert retried.header("Idempotent-Replayed") is None
    assert retried.body["status"] == "succeeded"
    assert len(emulator.payment_intents()) == 1
    assert bus.types() == ["PaymentInitiated", "PaymentProcessed"]  # not initiated twice
