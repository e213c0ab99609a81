"""A partial capture in the books: 60.00 captured of 100.00 authorized, through the API, the emulator,
its signed webhooks, the bus and the accounting subscriber. The ledger books what was captured, a refund
takes at most that, and reconciliation with Stripe's balance transactions finds nothing to explain."""

from __future__ import annotations

import uuid

from tests.integration.reconciliation.conftest import admin, completed, differences, settle
from tests.support.stripe_webhooks import history, journal, ledger_balances, payment


def test_capture_60_of_100_books_60_refunds_cap_at_60_and_reconciles(stripe_chain, dispatcher, today):
    order = {"order_id": f"order-{uuid.uuid4().hex[:12]}", "amount": 10_000, "currency": "usd"}
    body = {**order, "payment_method_id": "pm_card_visa", "customer_id": "cus_alice", "capture": "manual"}
    held = admin("POST", "/payments", body=body).body
    assert held["status"] == "requires_capture", held
    captured = admin("POST", f"/payments/{held['id']}/capture", body={"amount": 6_000})
    assert captured.status == 200, captured.body
    settle(stripe_chain, dispatcher)

    # Stripe's fee on 60.00: 2.9% + 0.30 = 2.04 (the emulator's rate).
    assert ledger_balances() == {"stripe_balance": 5_796, "stripe_fees": 204, "sales": -6_000}
    (entry,) = journal()
    assert (entry.source, entry.entry_id) == ("PaymentCaptured", f"{held['id']}:v3")

    too_much = admin("POST", f"/payments/{held['id']}/refunds", body={"amount": 6_001})
    assert (too_much.status, too_much.body["code"]) == (409, "amount_exceeds_refundable")
    refunded = admin("POST", f"/payments/{held['id']}/refunds", body={})
    assert (refunded.status, refunded.body["amount"]) == (201, 6_000)
    settle(stripe_chain, dispatcher)

    after = payment(held["id"])
    assert (after["status"], after["amount_captured"], after["amount_refunded"]) == ("refunded", 6_000, 6_000)
    assert history(held["id"]) == [
        "PaymentInitiated",
        "PaymentAuthorized",
        "PaymentCaptured",
        "RefundRequested",
        "RefundIssued",
    ]
    assert ledger_balances() == {
        "stripe_balance": -204,
        "stripe_fees": 204,
        "sales": -6_000,
        "refunds": 6_000,
    }
    run = completed(today())
    assert (run["unexplained"], run["differences_total"]) == (0, 0)
    assert run["matched"] == run["stripe_transactions"] == 2  # the charge (60.00) and the refund
    assert differences(run["id"]) == []
