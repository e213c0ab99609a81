"""The running stack driven as a back office, a billing service and a customer's browser would drive it:
renewals charged off-session from saved cards (one that needs the customer to authenticate comes back
on-session), a partial capture, and an authorization that expires at Stripe."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import stripe

from infra.local.client import ApiClient, HttpResult, request
from infra.local.tokens import issue_token
from tests.e2e.frontend import Frontend

pytestmark = pytest.mark.e2e


def billing(frontend: Frontend) -> ApiClient:
    """A service with the payments/service scope (Cognito client credentials)."""
    return ApiClient(frontend.state.api_url, issue_token(frontend.state.jwt_secret, "billing", service=True))


def browser(frontend: Frontend) -> stripe.StripeClient:
    """Stripe.js in the customer's browser: a publishable key and the PaymentIntent's client_secret."""
    assert frontend.state.stripe_url
    return stripe.StripeClient(
        "pk_test_e2e", base_addresses={"api": frontend.state.stripe_url}, max_network_retries=0
    )


def save_for_renewals(frontend: Frontend, card: str) -> HttpResult:
    return frontend.alice.post("/payment-methods", {"payment_method_id": card, "usage": "off_session"})


def renew(frontend: Frontend, method_id: str, amount: int = 990) -> HttpResult:
    return billing(frontend).post(
        "/payments",
        {
            "order_id": f"renewal-{uuid.uuid4().hex[:10]}",
            "amount": amount,
            "currency": "usd",
            "customer_id": "alice",
            "payment_method_id": method_id,
            "off_session": True,
        },
    )


def challenge(page: str, outcome: str = "succeed") -> None:
    """The cardholder's 3-D Secure page, as the emulator serves it."""
    answer = request("GET", f"{page}?outcome={outcome}")
    assert answer.status in (200, 302), answer.body


def held_for(frontend: Frontend, amount: int) -> dict[str, Any]:
    held = frontend.admin.post(
        "/payments",
        {
            "order_id": f"e2e-{uuid.uuid4().hex[:10]}",
            "amount": amount,
            "currency": "usd",
            "customer_id": "alice",
            "payment_method_id": "pm_card_visa",
            "capture": "manual",
        },
    )
    assert held.status == 201, held.body
    assert held.json["status"] == "requires_capture"
    return dict(held.json)


def test_a_renewal_of_a_saved_card_succeeds_off_session(frontend: Frontend) -> None:
    saved = save_for_renewals(frontend, "pm_card_visa")
    assert saved.status == 201, saved.body
    assert saved.json["usage"] == "off_session"

    renewed = renew(frontend, saved.json["id"])

    assert renewed.status == 201, renewed.body
    assert (renewed.json["status"], renewed.json["off_session"]) == ("succeeded", True)
    assert renewed.json["customer_id"] == "alice"
    assert frontend.alice.get(f"/payments/{renewed.json['id']}").json["amount_captured"] == 990
    # Customers cannot charge their cards off-session themselves.
    refused = frontend.alice.post(
        "/payments",
        {
            "order_id": "self-renewal",
            "amount": 990,
            "currency": "usd",
            "payment_method_id": saved.json["id"],
            "off_session": True,
        },
    )
    assert (refused.status, refused.code) == (403, "forbidden")


def test_a_renewal_needing_authentication_waits_then_succeeds_once_the_customer_authenticates(
    frontend: Frontend,
) -> None:
    # Saving the card for renewals: the bank wants the customer once (SetupIntent, 3-D Secure).
    pending = save_for_renewals(frontend, "pm_card_authenticationRequired")
    assert pending.status == 201, pending.body
    setup = pending.json["setup"]
    assert setup["status"] == "requires_action"
    challenge(setup["next_action"]["use_stripe_sdk"]["stripe_js"])
    recorded = save_for_renewals(frontend, pending.json["id"])
    assert (recorded.status, recorded.json["usage"]) == (200, "off_session")

    # The renewal: this card wants the customer every time, so Stripe declines it off-session.
    renewed = renew(frontend, recorded.json["id"])
    assert renewed.status == 201, renewed.body
    waiting = renewed.json
    assert waiting["status"] == "requires_action"
    assert waiting["next_action"]["type"] == "confirm_on_session"
    method = waiting["next_action"]["confirm_on_session"]["payment_method"]
    assert method == recorded.json["id"]

    # The customer comes back: the frontend confirms the same PaymentIntent, then 3-D Secure.
    intent_id = waiting["client_secret"].split("_secret_")[0]
    confirmed = browser(frontend).v1.payment_intents.confirm(
        intent_id, params={"client_secret": waiting["client_secret"], "payment_method": method}
    )
    assert confirmed.status == "requires_action"
    assert confirmed.next_action is not None
    challenge(confirmed.next_action.use_stripe_sdk.stripe_js)

    # Stripe's webhook, the bus and the payment_status subscriber complete it.
    done = frontend.wait_for_payment(waiting["id"], lambda p: p["status"] == "succeeded", timeout_s=30)
    assert (done["amount_captured"], done["next_action"]) == (990, None)
    frontend.wait_for_output("dispatch", "payment_intent.succeeded", "payment_status ok")


def test_capture_60_of_100_and_the_rest_is_released(frontend: Frontend) -> None:
    held = held_for(frontend, 10_000)

    captured = frontend.admin.post(f"/payments/{held['id']}/capture", {"amount": 6_000})

    assert captured.status == 200, captured.body
    assert (captured.json["amount"], captured.json["amount_captured"]) == (10_000, 6_000)
    too_much = frontend.admin.post(f"/payments/{held['id']}/refunds", {"amount": 6_001})
    assert (too_much.status, too_much.code) == (409, "amount_exceeds_refundable")
    events = frontend.admin.get(f"/payments/{held['id']}/events").json["data"]
    (captured_event,) = [e for e in events if e["event_type"] == "PaymentCaptured"]
    assert (captured_event["data"]["amount_captured"], captured_event["data"]["amount_released"]) == (
        6_000,
        4_000,
    )


def test_an_authorization_that_expires_at_stripe_cancels_the_payment_and_frees_the_order(
    frontend: Frontend,
) -> None:
    held = held_for(frontend, 4_200)
    intent_id = _intent_of(frontend, held["id"])

    expired = frontend.emulator(f"payment_intents/{intent_id}/expire")

    assert expired.status == 200, expired.body
    canceled = frontend.wait_for_payment(held["id"], lambda p: p["status"] == "canceled", timeout_s=30)
    assert canceled["failure"]["code"] == "authorization_expired"
    again = frontend.admin.post(
        "/payments",
        {
            "order_id": held["order_id"],
            "amount": 4_200,
            "currency": "usd",
            "customer_id": "alice",
            "payment_method_id": "pm_card_visa",
        },
    )
    assert again.status == 201, again.body


def _intent_of(frontend: Frontend, payment_id: str) -> str:
    assert frontend.state.stripe_url
    client = stripe.StripeClient(
        "sk_test_e2e", base_addresses={"api": frontend.state.stripe_url}, max_network_retries=0
    )
    found = client.v1.payment_intents.search(params={"query": f"metadata['payment_id']:'{payment_id}'"})
    (intent,) = found.data
    return str(intent.id)
