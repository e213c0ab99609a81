"""Refund helpers: pay, refund as an admin, read back, and forward Stripe's refund events to the bus."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import stripe

from infra import catalog
from infra.local.stripe_emulator import StripeEmulator
from tests.support.api import ApiResponse, call
from tests.support.bus import put_stripe_event

ADMIN = "admin-1"


def pay(
    amount: int = 10_000, currency: str = "usd", pm: str = "pm_card_visa", **extra: Any
) -> dict[str, Any]:
    body = {
        "order_id": f"order-{uuid.uuid4().hex[:12]}",
        "amount": amount,
        "currency": currency,
        "payment_method_id": pm,
        **extra,
    }
    response = call("POST", "/payments", body=body)
    assert response.status == 201, response.body
    return dict(response.body)


def refund(payment_id: str, body: Any = None, **kwargs: Any) -> ApiResponse:
    kwargs.setdefault("sub", ADMIN)
    kwargs.setdefault("admin", True)
    return call("POST", f"/payments/{payment_id}/refunds", body=body, **kwargs)


def refunded(payment_id: str, amount: int | None = None, **body: Any) -> dict[str, Any]:
    """A refund that must be accepted."""
    response = refund(payment_id, {**body, **({"amount": amount} if amount is not None else {})})
    assert response.status == 201, response.body
    return dict(response.body)


def payment(payment_id: str) -> dict[str, Any]:
    response = call("GET", f"/payments/{payment_id}", sub=ADMIN, admin=True)
    assert response.status == 200, response.body
    return dict(response.body)


def history(payment_id: str) -> list[str]:
    response = call("GET", f"/payments/{payment_id}/events", sub=ADMIN, admin=True)
    return [event["event_type"] for event in response.body["data"]]


def stripe_charge(emulator: StripeEmulator, payment_id: str) -> dict[str, Any]:
    (charge,) = [c for c in emulator.charges() if c["metadata"].get("payment_id") == payment_id]
    return charge


class StripeFeed:
    """Stripe's refund events (what the emulator emitted), put on the bus as the webhook would."""

    def __init__(self, emulator: StripeEmulator) -> None:
        self.emulator = emulator
        self.seen = 0

    def new(self) -> list[dict[str, Any]]:
        events = self.emulator.events()
        fresh, self.seen = events[self.seen :], len(events)
        return [e for e in fresh if e["type"] in catalog.STRIPE_REFUND_EVENTS]

    def forward(self, events: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        events = self.new() if events is None else events
        for event in events:
            put_stripe_event(event)
        return events


@pytest.fixture
def feed(emulator: StripeEmulator) -> StripeFeed:
    return StripeFeed(emulator)


@pytest.fixture
def stripe_api(emulator: StripeEmulator) -> stripe.StripeClient:
    """Stripe as someone in the dashboard uses it (not through our API)."""
    return stripe.StripeClient(
        "sk_test_dashboard", base_addresses={"api": emulator.url}, max_network_retries=0
    )


def refunds_deliveries(dispatcher: Any) -> list[Any]:
    return [d for d in dispatcher.drain() if d.function == "refunds"]
