"""Concurrent refunds never over-refund; small partial refunds add up exactly in every currency kind."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from .conftest import pay, payment, refund, refunded, stripe_charge


def test_ten_concurrent_refunds_of_thirty_percent(aws, emulator):
    paid = pay(10_000)

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(lambda _: refund(paid["id"], {"amount": 3_000}), range(10)))

    accepted = [r for r in responses if r.status == 201]
    refused = [r for r in responses if r.status != 201]
    assert len(accepted) == 3, [r.body for r in responses]
    assert {(r.status, r.body["code"]) for r in refused} == {(409, "amount_exceeds_refundable")}
    # Stripe (the emulator) holds exactly what we accepted, and never more than was captured.
    stripe_refunds = [r for r in emulator.refunds() if r["status"] != "failed"]
    assert sorted(r["id"] for r in stripe_refunds) == sorted(r.body["stripe_refund_id"] for r in accepted)
    assert sum(r["amount"] for r in stripe_refunds) <= paid["amount_captured"]
    state = payment(paid["id"])
    assert state["amount_refunded"] == 9_000 == stripe_charge(emulator, paid["id"])["amount_refunded"]
    assert state["status"] == "partially_refunded"
    assert sorted(r["id"] for r in state["refunds"]) == sorted(r.body["id"] for r in accepted)
    assert {r["status"] for r in state["refunds"]} == {"succeeded"}
    assert refunded(paid["id"])["amount"] == 1_000
    assert payment(paid["id"])["status"] == "refunded"


def test_ten_concurrent_refunds_that_all_fit_all_succeed(aws, emulator):
    """Ten writers on one payment: each lost optimistic-lock race is retried after a jittered pause,
    so none gives up (a plain four-attempt loop lost about half of them)."""
    paid = pay(10_000)

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(lambda _: refund(paid["id"], {"amount": 1_000}), range(10)))

    assert [r.status for r in responses] == [201] * 10, [r.body for r in responses]
    state = payment(paid["id"])
    assert (state["status"], state["amount_refunded"], len(state["refunds"])) == ("refunded", 10_000, 10)
    assert stripe_charge(emulator, paid["id"])["amount_refunded"] == 10_000


# Three-decimal currencies take multiples of 10 only: their smallest steps are 10, 20 and 30.
@pytest.mark.parametrize(
    ("currency", "amount", "step"), [("usd", 1_000, 1), ("jpy", 1_000, 1), ("kwd", 5_000, 10)]
)
def test_one_two_three_minor_units_then_the_rest(aws, emulator, currency, amount, step):
    paid = pay(amount, currency=currency)
    for units in (1, 2, 3):
        refunded(paid["id"], units * step)
        assert payment(paid["id"])["status"] == "partially_refunded"
    rest = refunded(paid["id"])

    assert rest["amount"] == amount - 6 * step
    state = payment(paid["id"])
    assert state["status"] == "refunded"
    assert state["amount_refunded"] == state["amount_captured"] == amount
    assert [r["amount"] for r in state["refunds"]] == [step, 2 * step, 3 * step, amount - 6 * step]
    charge = stripe_charge(emulator, paid["id"])
    assert (charge["amount_refunded"], charge["refunded"]) == (amount, True)
