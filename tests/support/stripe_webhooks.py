"""Deliver Stripe events to the webhook the way Stripe does (the exact body, signed by the real SDK),
and the flows and reads the webhook, subscriber and ledger tests share."""

from __future__ import annotations

import copy
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import stripe
from botocore.awsrequest import AWSResponse

from infra import catalog
from infra.local.apigw import build_rest_event
from payments import services
from payments.adapters.aws import client
from payments.application.accounting import account_balances
from payments.application.clock import now
from tests.support.api import ApiResponse, call, invoke_event

SAMPLES = Path(__file__).resolve().parents[2] / "events"
WEBHOOK_SECRET = "whsec_integration_current"  # what tests/integration/conftest.py stores as "current"
ROUTE = catalog.function("stripe_webhook").route
assert ROUTE is not None


def stripe_sample(event_type: str) -> dict[str, Any]:
    """A sanitized Stripe event from events/stripe (a fresh copy each time)."""
    return copy.deepcopy(json.loads((SAMPLES / "stripe" / f"{event_type}.json").read_text()))


def stripe_client(emulator: Any) -> stripe.StripeClient:
    """Stripe reached directly, as the customer's browser, the dashboard or a script would (the
    emulator has no publishable keys)."""
    return stripe.StripeClient("sk_test_direct", base_addresses={"api": emulator.url}, max_network_retries=0)


def intent_outside_our_api(
    emulator: Any, payment_id: str, amount: int = 10_000, payment_method: str = "pm_card_visa"
) -> Any:
    """A confirmed PaymentIntent whose metadata names `payment_id`, made without our API."""
    return stripe_client(emulator).v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": "usd",
            "payment_method": payment_method,
            "confirm": True,
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            "metadata": {"payment_id": payment_id},
        }
    )


def bus_sample(event_type: str) -> dict[str, Any]:
    """A domain event from events/bus as EventBridge delivers it, stamped now: the samples carry a
    fixed date, and the ledger books an entry on the day its event occurred."""
    sample: dict[str, Any] = json.loads((SAMPLES / "bus" / f"{event_type}.json").read_text())
    at = now()
    sample["time"] = at[:19] + "Z"
    sample["detail"]["occurred_at"] = at
    return sample


def signature(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    return str(stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp))


def webhook_request(payload: str | bytes, stripe_signature: str | None) -> dict[str, Any]:
    """API Gateway's event for Stripe's POST."""
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    }
    if stripe_signature is not None:
        headers["Stripe-Signature"] = stripe_signature
    return build_rest_event("POST", ROUTE.path, ROUTE.path, headers=headers, body=payload)


def deliver(
    event: dict[str, Any] | str,
    *,
    secret: str = WEBHOOK_SECRET,
    timestamp: int | None = None,
    stripe_signature: str | None = None,
) -> ApiResponse:
    """POST the event to the webhook handler, signed with `secret` at `timestamp` (default: now)."""
    payload = event if isinstance(event, str) else json.dumps(event, indent=2)
    header = stripe_signature or signature(payload, secret, timestamp or int(time.time()))
    return invoke_event("stripe_webhook", webhook_request(payload, header))


def forward_request(headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """An HTTP request as a local receiver got it -> API Gateway's event (Stripe's own headers kept)."""
    return build_rest_event("POST", ROUTE.path, ROUTE.path, headers=headers, body=body.decode())


# --------------------------------------------------------------------------- flows the tests share


def pay(sub: str = "cus_alice", **overrides: Any) -> dict[str, Any]:
    """POST /v1/payments; the created payment (201 expected)."""
    body = {"order_id": f"order-{uuid.uuid4().hex[:12]}", "amount": 10_000, "currency": "usd"}
    body.update({"payment_method_id": "pm_card_visa", **overrides})
    response = call("POST", "/payments", body=body, sub=sub)
    assert response.status == 201, response.body
    return dict(response.body)


def pay_with_3ds(**overrides: Any) -> dict[str, Any]:
    """A payment waiting for the customer's 3-D Secure challenge (requires_action)."""
    payment = pay(
        payment_method_id="pm_card_authenticationRequired",
        return_url="https://shop.example/done",
        **overrides,
    )
    assert payment["status"] == "requires_action", payment
    return payment


def payment(payment_id: str) -> dict[str, Any]:
    response = call("GET", f"/payments/{payment_id}", sub="admin-1", admin=True)
    assert response.status == 200, response.body
    return dict(response.body)


def history(payment_id: str) -> list[str]:
    response = call("GET", f"/payments/{payment_id}/events", sub="admin-1", admin=True)
    return [event["event_type"] for event in response.body["data"]]


def intent_of(payment_id: str, emulator: Any) -> dict[str, Any]:
    (intent,) = [i for i in emulator.payment_intents() if i["metadata"].get("payment_id") == payment_id]
    return dict(intent)


def emitted(emulator: Any, event_type: str, about: str) -> dict[str, Any]:
    """The emulator's last event of `event_type` whose object is, or belongs to, `about` (an id)."""
    found = [
        e
        for e in emulator.events(event_type)
        if about in (e["data"]["object"]["id"], e["data"]["object"].get("payment_intent"))
    ]
    assert found, f"no {event_type} about {about}"
    return dict(found[-1])


def _period() -> tuple[str, str]:
    """Today (UTC) with a day either side: a test running over midnight still sees its entries."""
    today = datetime.now(UTC).date()
    return (today - timedelta(days=1)).isoformat(), (today + timedelta(days=1)).isoformat()


def ledger_balances(currency: str = "usd") -> dict[str, int]:
    """Each account's non-zero balance in the ledger table, debit positive."""
    return {str(k): v for k, v in account_balances(services.ledger(), currency, *_period()).items()}


def journal(currency: str = "usd") -> list[Any]:
    return list(services.ledger().entries(currency, *_period()))


def fail_put_events(times: int = 1, during: Any = None) -> list[int]:
    """Make the next `times` PutEvents calls report a failed entry (as EventBridge does when throttled
    or failing internally); `during` runs at that moment. Returns a list counting the failures."""
    failures: list[int] = []

    def answer(**_: Any) -> Any:
        if len(failures) >= times:
            return None
        failures.append(1)
        if during:
            during()
        entries = [{"ErrorCode": "InternalFailure", "ErrorMessage": "injected"}]
        return AWSResponse("https://events.local", 200, {}, None), {"FailedEntryCount": 1, "Entries": entries}

    client("events").meta.events.register("before-call.eventbridge.PutEvents", answer)
    return failures
