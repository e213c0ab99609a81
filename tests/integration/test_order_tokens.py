"""Amounts from the order (docs/risk.md): POST /v1/payments end to end, with order tokens signed the way the
Order Service signs them, moto and the Stripe emulator.

What must hold: a customer pays exactly the order's amount, in its currency, for their own order, or
nothing is written and Stripe hears nothing; and an order, once claimed, is its customer's for good, so
nobody else (not even through a service or an admin naming another customer) can pay or block it.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from joserfc.jwk import OKPKey

from infra import catalog
from infra.local.resources import local_order_token_keys
from infra.local.tokens import issue_order_token, sign_order_claims
from payments import services
from tests.support.api import ApiResponse, call

DECLINED = "pm_card_chargeDeclinedInsufficientFunds"


@pytest.fixture
def stripe_requests(caplog: pytest.LogCaptureFixture) -> Callable[[], list[str]]:
    """The requests the Stripe emulator has answered since the test began (its request log)."""
    caplog.set_level(logging.INFO, logger="stripe_emulator")

    def seen() -> list[str]:
        return [
            r.getMessage() for r in caplog.records if r.name == "stripe_emulator" and " -> " in r.getMessage()
        ]

    return seen


def new_order() -> str:
    return f"order-{uuid.uuid4().hex[:12]}"


def token(
    order_id: str, sub: str = "cus_alice", amount: int = 2599, currency: str = "usd", **extra: Any
) -> str:
    if not extra:
        return issue_order_token(order_id, amount, currency, sub)
    now = int(time.time())
    claims = {"iss": catalog.ORDER_TOKEN_ISSUER, "sub": sub, "order_id": order_id, "amount": amount}
    claims.update(currency=currency, iat=now, exp=now + 600)
    claims.update(extra)
    return sign_order_claims({k: v for k, v in claims.items() if v is not None})


def pay(
    order_token: str | None, *, sub: str = "cus_alice", card: str = "pm_card_visa", **body: Any
) -> ApiResponse:
    payload = {"payment_method_id": card, **body}
    if order_token is not None:
        payload["order_token"] = order_token
    return call("POST", "/payments", body=payload, sub=sub, order_token=False)


def as_service(**body: Any) -> ApiResponse:
    return call(
        "POST",
        "/payments",
        body={"payment_method_id": "pm_card_visa", **body},
        sub="svc-checkout",
        service=True,
    )


def items() -> list[dict[str, Any]]:
    return boto3.client("dynamodb").scan(TableName="payments")["Items"]


def assert_refused(response: ApiResponse, status: int, code: str) -> None:
    assert response.status == status, response.body
    assert response.body["code"] == code, response.body
    assert response.header("Content-Type") == "application/problem+json"


# ----------------------------------------------------------------------------- the token's terms


def test_a_customer_pays_the_orders_amount_from_the_token_alone(aws, emulator, stripe_requests):
    order = new_order()
    created = pay(token(order, amount=4200, currency="eur"))
    assert created.status == 201, created.body
    payment = created.body
    assert (payment["order_id"], payment["amount"], payment["currency"]) == (order, 4200, "eur")
    assert payment["customer_id"] == "cus_alice"
    (intent,) = emulator.payment_intents()
    assert (intent["amount"], intent["currency"], intent["metadata"]["order_id"]) == (4200, "eur", order)
    assert any("POST /v1/payment_intents" in line for line in stripe_requests())


def test_the_body_may_repeat_the_terms_but_not_change_them(aws, emulator, stripe_requests):
    order = new_order()
    signed = token(order)
    for field, value in (("amount", 1), ("amount", 2598), ("currency", "eur"), ("order_id", new_order())):
        refused = pay(signed, **{field: value})
        assert_refused(refused, 422, "order_token_mismatch")
        assert refused.body["param"] == field
    assert items() == []
    assert stripe_requests() == []
    assert pay(signed, order_id=order, amount=2599, currency="USD").status == 201


def test_a_customer_without_a_token_is_400_and_nothing_happens(aws, emulator, stripe_requests):
    for body in ({}, {"order_id": new_order(), "amount": 2599, "currency": "usd"}):
        refused = pay(None, **body)
        assert_refused(refused, 400, "order_token_required")
        assert refused.body["param"] == "order_token"
    assert items() == []
    assert stripe_requests() == []


def _bad_tokens() -> dict[str, tuple[Callable[[str], str], str]]:
    now = int(time.time())
    stranger = {**OKPKey.generate_key("Ed25519").as_dict(private=True), "kid": "local-order-key-1"}
    unknown = {**OKPKey.generate_key("Ed25519").as_dict(private=True), "kid": "not-a-key-of-ours"}
    header = '{"alg":"none","kid":"local-order-key-1"}'

    def unsigned(order: str) -> str:
        import base64

        def b64(text: str) -> str:
            return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()

        claims = {"iss": "orders", "sub": "cus_alice", "order_id": order, "amount": 1, "currency": "usd"}
        return f"{b64(header)}.{b64(json.dumps({**claims, 'exp': now + 600}))}."

    def signed_by(key: dict[str, Any]) -> Callable[[str], str]:
        def make(order: str) -> str:
            claims = {
                "iss": "orders",
                "sub": "cus_alice",
                "order_id": order,
                "amount": 2599,
                "currency": "usd",
            }
            return sign_order_claims({**claims, "exp": now + 600}, key=key)

        return make

    return {
        "alg none": (unsigned, "order_token_invalid"),
        "another key under our kid": (signed_by(stranger), "order_token_invalid"),
        "an unknown kid": (signed_by(unknown), "order_token_invalid"),
        "expired": (lambda o: token(o, iat=now - 7200, exp=now - 3600), "order_token_expired"),
        "not yet valid": (lambda o: token(o, nbf=now + 3600), "order_token_not_yet_valid"),
        "another customer's": (lambda o: token(o, sub="cus_bob"), "order_token_customer_mismatch"),
        "another issuer's": (lambda o: token(o, iss="someone-else"), "order_token_issuer_unknown"),
        "not three parts": (lambda o: "abc.def", "order_token_invalid"),
        "bad base64": (lambda o: token(o).replace(".", ".*", 1), "order_token_invalid"),
        "a float amount": (lambda o: token(o, amount=2599.0), "order_token_invalid"),
        "a negative amount": (lambda o: token(o, amount=-2599), "order_token_invalid"),
        "a huge amount": (lambda o: token(o, amount=10**15), "order_token_invalid"),
        "no ISO currency": (lambda o: token(o, currency="dollars"), "order_token_invalid"),
    }


@pytest.mark.parametrize("case", list(_bad_tokens()))
def test_a_bad_token_writes_nothing_and_reaches_no_stripe(aws, emulator, stripe_requests, case):
    make, code = _bad_tokens()[case]
    refused = pay(make(new_order()))
    assert_refused(refused, 422, code)
    assert refused.body["param"] == "order_token"
    assert items() == []
    assert stripe_requests() == []
    assert emulator.payment_intents() == []


def test_rotation_previous_key_accepted_until_removed(aws, emulator):
    rolled = {**OKPKey.generate_key("Ed25519").as_dict(private=True), "kid": "orders-next"}
    new_public = {k: v for k, v in rolled.items() if k != "d"}
    old_public = local_order_token_keys()["current"]
    now = int(time.time())

    def signed(order: str, key: dict[str, Any] | None = None) -> str:
        claims = {"iss": "orders", "sub": "cus_alice", "order_id": order, "amount": 2599, "currency": "usd"}
        return sign_order_claims({**claims, "exp": now + 600}, **({"key": key} if key else {}))

    def keys(**slots: dict[str, Any]) -> None:
        secretsmanager = boto3.client("secretsmanager")
        secretsmanager.put_secret_value(
            SecretId=catalog.ORDER_TOKEN_KEYS.name, SecretString=json.dumps(slots)
        )
        services.reset()  # the warm function's cache of the secret, as its max age would

    keys(current=new_public, previous=old_public)
    assert pay(signed(new_order())).status == 201  # the previous key, while kept
    assert pay(signed(new_order(), rolled)).status == 201
    keys(current=new_public)
    assert_refused(pay(signed(new_order())), 422, "order_token_invalid")
    assert pay(signed(new_order(), rolled)).status == 201


# ----------------------------------------------------------------------------- the order is its customer's


def test_another_customers_token_for_the_same_order_cannot_pay_it(aws, emulator):
    order = new_order()
    assert pay(token(order)).status == 201
    # Bob holding Alice's token is refused by the token; Bob's own token for her order by the claim.
    assert_refused(pay(token(order), sub="cus_bob"), 422, "order_token_customer_mismatch")
    refused = pay(token(order, sub="cus_bob"), sub="cus_bob")
    assert_refused(refused, 409, "order_customer_mismatch")
    assert "payment_id" not in refused.body
    assert len(emulator.payment_intents()) == 1


def test_another_customer_cannot_take_an_order_its_customer_failed_to_pay(aws, emulator):
    """The failed payment released the claim, yet the order stays Alice's: Bob (or a service or admin
    naming Bob) can neither pay it nor block it, and Alice can still pay it."""
    order = new_order()
    declined = pay(token(order), card=DECLINED)
    assert_refused(declined, 402, "card_declined")
    assert_refused(pay(token(order, sub="cus_bob"), sub="cus_bob"), 409, "order_customer_mismatch")
    for_bob = as_service(order_id=order, amount=100, currency="usd", customer_id="cus_bob")
    assert_refused(for_bob, 409, "order_customer_mismatch")
    by_admin = call(
        "POST",
        "/payments",
        body={"order_id": order, "amount": 100, "currency": "usd", "payment_method_id": "pm_card_visa"},
        sub="cus_bob",  # an admin acting as a customer of another order
        admin=True,
    )
    assert_refused(by_admin, 409, "order_customer_mismatch")
    assert len(emulator.payment_intents()) == 1  # only Alice's declined attempt reached Stripe
    # Alice's retry with the same token and a card that works (a new request: a new key).
    retried = pay(token(order))
    assert retried.status == 201, retried.body
    assert retried.body["customer_id"] == "cus_alice"


def test_a_service_call_for_another_customer_on_an_order_is_refused(aws, emulator):
    order = new_order()
    assert pay(token(order)).status == 201
    refused = as_service(order_id=order, amount=2599, currency="usd", customer_id="cus_bob")
    assert_refused(refused, 409, "order_customer_mismatch")
    # For the order's own customer the service gets the usual answer: the order is paid.
    again = as_service(order_id=order, amount=2599, currency="usd", customer_id="cus_alice")
    assert_refused(again, 409, "order_already_paid")


def test_the_same_token_twice_with_two_keys_pays_once(aws, emulator):
    order = new_order()
    signed = token(order)
    first = call("POST", "/payments", body={"order_token": signed, "payment_method_id": "pm_card_visa"})
    second = call("POST", "/payments", body={"order_token": signed, "payment_method_id": "pm_card_visa"})
    assert first.status == 201
    assert_refused(second, 409, "order_already_paid")
    assert second.body["payment_id"] == first.body["id"]
    assert len(emulator.payment_intents()) == 1


def test_the_same_token_with_another_amount_is_refused_also_under_its_first_key(aws, emulator):
    order = new_order()
    signed = token(order)
    first = call(
        "POST",
        "/payments",
        body={"order_token": signed, "payment_method_id": "pm_card_visa"},
        idempotency_key="k-1",
    )
    assert first.status == 201
    # Under a new key: the token's amount wins, the body's is refused.
    assert_refused(pay(signed, amount=1), 422, "order_token_mismatch")
    # Under the first key: another body is another request.
    reused = call(
        "POST",
        "/payments",
        body={"order_token": signed, "payment_method_id": "pm_card_visa", "amount": 1},
        idempotency_key="k-1",
    )
    assert_refused(reused, 422, "idempotency_key_reused")
    assert [i["amount"] for i in emulator.payment_intents()] == [2599]


def test_a_retried_request_replays_its_first_answer(aws, emulator):
    body = {"order_token": token(new_order()), "payment_method_id": "pm_card_visa"}
    first = call("POST", "/payments", body=body, idempotency_key="same")
    again = call("POST", "/payments", body=body, idempotency_key="same")
    assert (first.status, again.status) == (201, 201)
    assert again.header("Idempotent-Replayed") == "true"
    assert again.body == first.body


# ----------------------------------------------------------------------------- service callers


def test_a_service_states_the_terms_for_any_customer(aws, emulator):
    order = new_order()
    created = as_service(order_id=order, amount=1800, currency="gbp", customer_id="cus_bob")
    assert created.status == 201, created.body
    assert (created.body["customer_id"], created.body["amount"], created.body["currency"]) == (
        "cus_bob",
        1800,
        "gbp",
    )
    assert call("GET", f"/payments/{created.body['id']}", sub="cus_bob").status == 200


def test_a_service_may_send_the_customers_token_instead(aws, emulator):
    order = new_order()
    created = as_service(order_token=token(order, amount=999))
    assert created.status == 201, created.body
    assert (created.body["customer_id"], created.body["amount"]) == ("cus_alice", 999)
    assert_refused(
        as_service(order_token=token(new_order()), customer_id="cus_bob"),
        422,
        "order_token_customer_mismatch",
    )


def test_a_service_must_state_whole_terms(aws, emulator, stripe_requests):
    refused = as_service(amount=1800, customer_id="cus_bob")
    assert_refused(refused, 400, "validation_error")
    assert {e["field"] for e in refused.body["errors"]} == {"order_id", "currency"}
    assert items() == []
    assert stripe_requests() == []


def test_a_service_names_the_customer_it_charges(aws, emulator, stripe_requests):
    # A service is no customer: without customer_id it is refused, never charged as itself.
    refused = as_service(order_id=new_order(), amount=1800, currency="usd")
    assert_refused(refused, 400, "validation_error")
    assert {e["field"] for e in refused.body["errors"]} == {"customer_id"}
    assert items() == []
    assert stripe_requests() == []


def test_a_service_is_not_an_admin(aws, emulator):
    created = as_service(
        order_id=new_order(), amount=1800, currency="usd", customer_id="cus_bob", capture="manual"
    )
    assert created.status == 201
    capture = call(
        "POST", f"/payments/{created.body['id']}/capture", sub="svc-checkout", service=True, body={}
    )
    assert_refused(capture, 403, "forbidden")
