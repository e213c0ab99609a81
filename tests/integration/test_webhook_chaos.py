"""The main flows end to end (our API, Stripe, its signed webhooks, the bus, every subscriber and the
ledger), once with Stripe's webhooks in order and once reordered, duplicated and delayed as Stripe may
deliver them (it promises neither order nor exactly once). Both runs end in the same payment states
and the same ledger, whose trial balance is zero."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import stripe

from infra.local.stripe_emulator.webhooks import WebhookChaos
from tests.support.api import call
from tests.support.stripe_webhooks import intent_of, ledger_balances, payment, stripe_client

ADMIN = {"sub": "admin-1", "admin": True}
# What the flows below end in, whatever the delivery order.
EXPECTED_STATES = {
    "paid": ("partially_refunded", 2_500, None),
    "three_d_secure": ("succeeded", 0, None),
    "three_d_secure_failed": ("failed", 0, None),
    "captured": ("succeeded", 0, None),
    "dispute_lost": ("succeeded", 0, "lost"),
}
# 10,000 each: paid (refund 2,500), 3DS, captured, dispute lost (fee 1,500); fees 2.9% + 30 = 320 each.
EXPECTED_LEDGER = {
    "stripe_balance": 4 * (10_000 - 320) - 2_500 - 10_000 - 1_500,
    "sales": -40_000,
    "stripe_fees": 4 * 320,
    "refunds": 2_500,
    "dispute_fees": 1_500,
    "chargeback_losses": 10_000,
}


def pay(**overrides: Any) -> dict[str, Any]:
    body = {"order_id": f"order-{uuid.uuid4().hex[:10]}", "amount": 10_000, "currency": "usd"}
    body.update({"payment_method_id": "pm_card_visa", **overrides})
    response = call("POST", "/payments", body=body)
    assert response.status == 201, response.body
    return dict(response.body)


def settle(emulator: Any, dispatcher: Any) -> list[Any]:
    """Let every webhook (duplicates and delays included) arrive and every subscriber run."""
    deliveries: list[Any] = []
    for _ in range(10):
        assert emulator.wait_for_webhooks(timeout=30)
        drained = dispatcher.drain()
        if not drained:
            return deliveries
        deliveries.extend(drained)
    return deliveries


def run_main_flows(emulator: Any, dispatcher: Any) -> dict[str, str]:
    frontend = stripe_client(emulator)
    flows: dict[str, str] = {}
    paid = pay()
    flows["paid"] = paid["id"]
    three_ds = pay(payment_method_id="pm_card_authenticationRequired", return_url="https://shop.example/d")
    flows["three_d_secure"] = three_ds["id"]
    emulator.authenticate_payment_intent(intent_of(three_ds["id"], emulator)["id"], succeed=True)
    failed = pay(payment_method_id="pm_card_authenticationRequired", return_url="https://shop.example/d")
    flows["three_d_secure_failed"] = failed["id"]
    emulator.authenticate_payment_intent(intent_of(failed["id"], emulator)["id"], succeed=False)
    held = pay(capture="manual")
    flows["captured"] = held["id"]
    captured = call("POST", f"/payments/{held['id']}/capture", **ADMIN)
    assert captured.status == 200, captured.body
    disputed = pay()
    flows["dispute_lost"] = disputed["id"]

    settle(emulator, dispatcher)  # the frontend's later actions come after Stripe's news so far
    refunded = call("POST", f"/payments/{paid['id']}/refunds", body={"amount": 2_500}, **ADMIN)
    assert refunded.status == 201, refunded.body
    dispute = emulator.create_dispute(intent_of(disputed["id"], emulator)["id"], reason="fraudulent")
    emulator.close_dispute(dispute["id"], won=False)
    # The customer whose 3-D Secure failed tries again with the client_secret: refused, it is closed.
    with pytest.raises(stripe.InvalidRequestError):
        frontend.v1.payment_intents.confirm(
            intent_of(failed["id"], emulator)["id"], params={"payment_method": "pm_card_visa"}
        )
    deliveries = settle(emulator, dispatcher)
    assert [d for d in deliveries if d.outcome == "dlq"] == []
    return flows


@pytest.mark.parametrize("delivery", ["in_order", "reordered_duplicated_delayed"])
def test_the_main_flows_end_the_same_whatever_the_webhook_order(
    stripe_chain, dispatcher, webhook_endpoint, delivery
):
    if delivery != "in_order":
        stripe_chain.set_webhook_chaos(WebhookChaos(seed=20261201, duplicates=0.5, max_delay_ms=150))
    try:
        flows = run_main_flows(stripe_chain, dispatcher)
    finally:
        stripe_chain.set_webhook_chaos(None)

    arrived = [event_id for event_id, _ in webhook_endpoint.answers]
    created = [event["id"] for event in stripe_chain.events()]
    assert set(arrived) == set(created)
    if delivery != "in_order":  # the run really met Stripe's worst: repeats and another order
        assert len(arrived) > len(set(arrived))
        assert list(dict.fromkeys(arrived)) != created
    else:
        assert arrived == created

    states = {}
    for flow, payment_id in flows.items():
        current = payment(payment_id)
        dispute = current["dispute"]["status"] if current["dispute"] else None
        states[flow] = (current["status"], current["amount_refunded"], dispute)
    assert states == EXPECTED_STATES
    balances = ledger_balances()
    assert balances == EXPECTED_LEDGER
    assert sum(balances.values()) == 0
