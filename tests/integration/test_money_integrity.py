"""Money integrity under the sequences the real world produces: a failed attempt confirmed again at the
frontend, answers lost after Stripe acted, Stripe forgetting idempotency keys, requests Stripe never
saw, fees known later, and intents our books do not hold. Each test names the sequence it closes.

Stripe is the emulator (through the official SDK); the frontend's own calls to Stripe (confirming the
intent again with its client_secret) are made with the SDK as Stripe.js would."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import stripe

from tests.support.api import call
from tests.support.lambda_context import FakeLambdaContext
from tests.support.stripe_webhooks import (
    history,
    intent_of,
    intent_outside_our_api,
    journal,
    ledger_balances,
    payment,
    stripe_client,
)

frontend = stripe_client  # the customer's browser confirming with its client_secret, as Stripe.js would


def create(order_id: str | None = None, key: str | None = None, **overrides: Any) -> Any:
    body = {"order_id": order_id or f"order-{uuid.uuid4().hex[:10]}", "amount": 10_000, "currency": "usd"}
    body.update({"payment_method_id": "pm_card_visa", **overrides})
    return call("POST", "/payments", body=body, idempotency_key=key or str(uuid.uuid4()))


def run_janitor(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    from functions.janitor.app import handler as janitor
    from payments import services

    monkeypatch.setenv("JANITOR_MIN_AGE_SECONDS", "0")
    services.reset()
    return janitor({}, FakeLambdaContext(function_name="janitor"))  # type: ignore[no-any-return]


def stored(payment_id: str) -> Any:
    """The payment as the table holds it (with the Stripe ids the API does not show)."""
    from payments import services

    return services.payments_reader().get(payment_id)


def charges_captured(emulator: Any, payment_id: str) -> int:
    """What Stripe holds for the payment: captured minus refunded, over every intent naming it."""
    return sum(
        c["amount_captured"] - c["amount_refunded"]
        for c in emulator.charges()
        if c["metadata"].get("payment_id") == payment_id and c["captured"]
    )


# --------------------------------------------------------------------------- 1. failed, then paid


def test_3ds_failure_closes_the_intent_so_a_retry_at_the_frontend_cannot_charge(stripe_chain, dispatcher):
    started = create(payment_method_id="pm_card_authenticationRequired", return_url="https://shop.example/d")
    assert started.status == 201, started.body
    intent_id = intent_of(started.body["id"], stripe_chain)["id"]
    stripe_chain.authenticate_payment_intent(intent_id, succeed=False)
    assert stripe_chain.wait_for_webhooks(timeout=10)
    dispatcher.drain()

    failed = payment(started.body["id"])
    assert failed["status"] == "failed"
    assert stripe_chain.get(intent_id)["status"] == "canceled"  # closed before we said failed
    # Stripe's documented retry, with the client_secret the frontend holds: refused now.
    with pytest.raises(stripe.InvalidRequestError):
        frontend(stripe_chain).v1.payment_intents.confirm(
            intent_id, params={"payment_method": "pm_card_visa"}
        )
    assert charges_captured(stripe_chain, started.body["id"]) == 0
    # The order is free for a new payment, which is the only charge.
    again = create(order_id=started.body["order_id"])
    assert again.status == 201
    assert again.body["status"] == "succeeded"
    assert stripe_chain.wait_for_webhooks(timeout=10)
    dispatcher.drain()
    assert ledger_balances()["sales"] == -10_000


def test_a_retry_at_the_frontend_before_our_cancel_is_applied_not_canceled(stripe_chain, dispatcher):
    started = create(payment_method_id="pm_card_authenticationRequired", return_url="https://shop.example/d")
    intent_id = intent_of(started.body["id"], stripe_chain)["id"]
    stripe_chain.authenticate_payment_intent(intent_id, succeed=False)
    # The customer tries another card before our subscriber handles payment_failed.
    frontend(stripe_chain).v1.payment_intents.confirm(intent_id, params={"payment_method": "pm_card_visa"})
    assert stripe_chain.wait_for_webhooks(timeout=10)
    dispatcher.drain()  # payment_failed (now stale) and succeeded, in any order

    paid = payment(started.body["id"])
    assert paid["status"] == "succeeded"
    assert paid["amount_captured"] == 10_000
    assert stripe_chain.get(intent_id)["status"] == "succeeded"
    assert ledger_balances()["sales"] == -10_000
    assert "PaymentFailed" not in history(started.body["id"])
    # The order is paid: a second payment is refused.
    assert create(order_id=started.body["order_id"]).body["code"] == "order_already_paid"


def test_a_synchronous_decline_is_closed_at_stripe_before_it_is_answered(aws, emulator):
    declined = create(payment_method_id="pm_card_chargeDeclined")
    assert declined.status == 402, declined.body
    (intent,) = [
        i for i in emulator.payment_intents() if i["metadata"]["payment_id"] == declined.body["payment_id"]
    ]
    assert intent["status"] == "canceled"
    assert payment(declined.body["payment_id"])["failure"]["code"] == "card_declined"


# --------------------------------------------------------------------------- 3. Stripe forgot the key


def test_a_resumed_payment_adopts_the_intent_stripe_made_after_it_forgot_the_key(aws, emulator):
    emulator.inject_fault("POST", "/v1/payment_intents", kind="drop_response", times=1)
    lost = create(key="pay-once", order_id="order-resume")
    assert lost.status >= 500, lost.body  # Stripe charged; the answer never came back
    emulator.forget_idempotency_keys()  # a day later

    resumed = create(key="pay-once", order_id="order-resume")
    assert resumed.status == 201, resumed.body
    assert resumed.body["status"] == "succeeded"
    intents = [i for i in emulator.payment_intents() if i["metadata"]["payment_id"] == resumed.body["id"]]
    assert len(intents) == 1  # adopted, not created again
    assert stored(resumed.body["id"]).stripe_payment_intent_id == intents[0]["id"]


def test_a_resumed_refund_adopts_the_refund_stripe_made_after_it_forgot_the_key(aws, emulator):
    paid = create()
    assert paid.status == 201
    admin = {"sub": "admin-1", "admin": True, "idempotency_key": "refund-once"}
    emulator.inject_fault("POST", "/v1/refunds", kind="drop_response", times=1)
    lost = call("POST", f"/payments/{paid.body['id']}/refunds", body={"amount": 4_000}, **admin)
    assert lost.status >= 500, lost.body
    emulator.forget_idempotency_keys()

    resumed = call("POST", f"/payments/{paid.body['id']}/refunds", body={"amount": 4_000}, **admin)
    assert resumed.status == 201, resumed.body
    assert len(emulator.refunds()) == 1
    assert resumed.body["stripe_refund_id"] == emulator.refunds()[0]["id"]
    assert payment(paid.body["id"])["amount_refunded"] == 4_000


def test_a_second_intent_for_one_payment_is_recorded_and_given_back(
    stripe_chain, dispatcher, emitted_metrics
):
    paid = create()
    assert paid.status == 201
    # Someone (a script, a dashboard copy) charges again with our payment's metadata.
    stray = intent_outside_our_api(stripe_chain, paid.body["id"])
    assert stripe_chain.wait_for_webhooks(timeout=10)
    dispatcher.drain()
    assert stripe_chain.wait_for_webhooks(timeout=10)
    dispatcher.drain()

    assert "StrayChargeDetected" in history(paid.body["id"])
    assert emitted_metrics().get("StrayCharges", 0) >= 1
    refunds = [r for r in stripe_chain.refunds() if r["payment_intent"] == stray.id]
    assert [r["amount"] for r in refunds] == [10_000]  # given back, once
    mine = payment(paid.body["id"])
    assert (mine["status"], mine["amount_refunded"]) == ("succeeded", 0)  # our payment is untouched


# --------------------------------------------------------------------------- 6. pending forever


def test_cancel_of_a_payment_stripe_never_saw_releases_it_and_its_order(aws, emulator):
    emulator.inject_fault("POST", "/v1/payment_intents", kind="disconnect", times=1)
    lost = create(key="never-seen", order_id="order-never")
    assert lost.status == 503, lost.body
    pending_id = lost.body.get("payment_id", None)
    blocked = create(order_id="order-never")
    assert blocked.body["code"] == "payment_in_progress"
    pending_id = pending_id or blocked.body.get("payment_id")
    assert pending_id

    canceled = call("POST", f"/payments/{pending_id}/cancel", idempotency_key=str(uuid.uuid4()))
    assert canceled.status == 200, canceled.body
    assert canceled.body["status"] == "canceled"
    # The original request, retried, finds it canceled and never reaches Stripe's create again.
    creates_before = len(emulator.payment_intents())
    retried = create(key="never-seen", order_id="order-never")
    assert retried.body["status"] == "canceled"
    assert len(emulator.payment_intents()) == creates_before
    assert charges_captured(emulator, pending_id) == 0
    assert create(order_id="order-never").status == 201  # the order is free


def test_the_janitor_releases_what_stripe_never_saw_and_adopts_what_it_did(aws, emulator, monkeypatch):
    emulator.inject_fault("POST", "/v1/payment_intents", kind="disconnect", times=1)
    never = create(order_id="order-j1")
    emulator.inject_fault("POST", "/v1/payment_intents", kind="drop_response", times=1)
    seen = create(order_id="order-j2")
    assert never.status >= 500
    assert seen.status >= 500

    report = run_janitor(monkeypatch)
    assert report == {"payments_settled": 2, "refunds_settled": 0, "holds_expired": 0, "unsettled": 0}
    by_order = {p["order_id"]: p for p in (call("GET", "/payments").body["data"])}
    assert by_order["order-j1"]["status"] == "canceled"
    assert by_order["order-j2"]["status"] == "succeeded"
    assert charges_captured(emulator, by_order["order-j2"]["id"]) == 10_000
    assert run_janitor(monkeypatch)["payments_settled"] == 0  # nothing left


def test_the_janitor_completes_a_refund_left_waiting_for_stripe(aws, emulator, monkeypatch):
    paid = create()
    emulator.inject_fault("POST", "/v1/refunds", kind="disconnect", times=1)
    waiting = call(
        "POST", f"/payments/{paid.body['id']}/refunds", body={"amount": 1_000}, sub="admin-1", admin=True
    )
    assert waiting.status >= 500
    assert payment(paid.body["id"])["refunds"][0]["status"] == "pending"

    assert run_janitor(monkeypatch)["refunds_settled"] == 1
    done = payment(paid.body["id"])
    assert (done["amount_refunded"], done["refunds"][0]["status"]) == (1_000, "succeeded")
    assert len(emulator.refunds()) == 1


# --------------------------------------------------------------------------- 4. fee known later


def test_a_fee_known_after_the_charge_is_booked_as_its_own_entry(stripe_chain, dispatcher):
    stripe_chain.update_settings(async_balance_transactions=True)
    paid = create()
    assert paid.status == 201
    assert paid.body["status"] == "succeeded"
    assert stripe_chain.wait_for_webhooks(timeout=10)
    dispatcher.drain()
    assert stored(paid.body["id"]).stripe_fee is None

    stripe_chain.settle_balance_transactions()  # charge.updated with the balance transaction
    assert stripe_chain.wait_for_webhooks(timeout=10)
    dispatcher.drain()
    assert stored(paid.body["id"]).stripe_fee == 320
    assert history(paid.body["id"])[-1] == "PaymentFeeRecorded"
    balances = ledger_balances()
    assert balances == {"stripe_balance": 9_680, "stripe_fees": 320, "sales": -10_000}
    assert sorted(e.source for e in journal()) == ["PaymentFeeRecorded", "PaymentProcessed"]


def test_a_stray_charge_on_a_failed_payment_is_given_back_after_its_order_was_paid_again(
    stripe_chain, dispatcher
):
    failed = create(payment_method_id="pm_card_chargeDeclined")
    assert failed.status == 402
    old_id = failed.body["payment_id"]
    order_id = payment(old_id)["order_id"]
    again = create(order_id=order_id)
    assert again.status == 201  # the order now belongs to the new payment
    stray = intent_outside_our_api(stripe_chain, old_id)
    for _ in range(2):  # the stray's events, then its refund's
        assert stripe_chain.wait_for_webhooks(timeout=10)
        assert "dlq" not in [d.outcome for d in dispatcher.drain()]

    assert history(old_id)[-1] == "StrayChargeDetected"
    assert [r["amount"] for r in stripe_chain.refunds() if r["payment_intent"] == stray.id] == [10_000]
    assert create(order_id=order_id).body["code"] == "order_already_paid"  # the claim was left alone


def test_a_capture_retried_after_its_answer_was_lost_and_its_key_forgotten_is_the_capture(aws, emulator):
    held = create(capture="manual")
    assert held.body["status"] == "requires_capture"
    admin = {"sub": "admin-1", "admin": True, "idempotency_key": "capture-once"}
    emulator.inject_fault("POST", "/v1/payment_intents", kind="drop_response", times=1)
    lost = call("POST", f"/payments/{held.body['id']}/capture", **admin)
    assert lost.status >= 500, lost.body  # Stripe captured; the answer never came back
    emulator.forget_idempotency_keys()

    again = call("POST", f"/payments/{held.body['id']}/capture", **admin)
    assert again.status == 200, again.body
    assert (again.body["status"], again.body["amount_captured"]) == ("succeeded", 10_000)
    assert charges_captured(emulator, held.body["id"]) == 10_000


def test_a_stray_charge_someone_refunded_already_is_recorded_not_parked(stripe_chain, dispatcher):
    paid = create()
    stray = intent_outside_our_api(stripe_chain, paid.body["id"])
    frontend(stripe_chain).v1.refunds.create(params={"payment_intent": stray.id})  # in the dashboard
    for _ in range(2):
        assert stripe_chain.wait_for_webhooks(timeout=10)
        assert "dlq" not in [d.outcome for d in dispatcher.drain()]
    assert "StrayChargeDetected" in history(paid.body["id"])
    assert [r["amount"] for r in stripe_chain.refunds() if r["payment_intent"] == stray.id] == [10_000]


def test_another_intent_that_failed_never_moves_our_payment(aws, emulator, dispatcher):
    started = create(payment_method_id="pm_card_authenticationRequired", return_url="https://shop.example/d")
    assert started.body["status"] == "requires_action"
    other = frontend(emulator).v1.payment_intents.create(
        params={
            "amount": 10_000,
            "currency": "usd",
            "payment_method": "pm_card_chargeDeclined",
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            "metadata": {"payment_id": started.body["id"]},
        }
    )
    with pytest.raises(stripe.CardError):
        frontend(emulator).v1.payment_intents.confirm(other.id)
    from tests.support.bus import put_stripe_event

    for event in emulator.events("payment_intent.payment_failed"):
        put_stripe_event(event)
    assert "dlq" not in [d.outcome for d in dispatcher.drain()]
    assert payment(started.body["id"])["status"] == "requires_action"  # still waiting for its own 3DS
