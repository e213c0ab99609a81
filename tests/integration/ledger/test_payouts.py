"""Payouts in the books, the whole chain offline: the emulator pays out our balance and sends payout.*
webhooks -> the real webhook -> the bus -> payouts (our record, Payout* events) -> accounting. The bank
account ends equal to the payouts paid, whatever the order and however often Stripe's news arrives."""

from __future__ import annotations

from infra.local.stripe_emulator import WebhookChaos
from payments import services
from tests.support.stripe_webhooks import journal, ledger_balances, pay


def settle(stripe_chain, dispatcher) -> None:
    assert stripe_chain.wait_for_webhooks(timeout=15)
    assert {d.outcome for d in dispatcher.drain()} <= {"ok"}


def test_a_paid_payout_moves_the_balance_to_the_bank(stripe_chain, dispatcher):
    pay()  # 100.00 usd, Stripe's fee 3.20
    settle(stripe_chain, dispatcher)
    (payout,) = stripe_chain.run_payouts("usd")
    settle(stripe_chain, dispatcher)

    assert payout["amount"] == 9_680
    balances = ledger_balances()
    assert balances == {"bank": 9_680, "sales": -10_000, "stripe_fees": 320}
    assert sum(balances.values()) == 0
    record = services.payouts().get(payout["id"])
    assert record is not None
    assert record.status == "paid"
    booked = [e for e in journal() if e.payout_id == payout["id"]]
    assert sorted(e.source for e in booked) == ["PayoutCreated", "PayoutPaid"]
    assert {e.stripe_object_id for e in booked} == {payout["id"]}


def test_a_payout_the_bank_returns_after_paid_is_back_in_the_balance(stripe_chain, dispatcher):
    pay()
    (payout,) = stripe_chain.run_payouts("usd")
    settle(stripe_chain, dispatcher)
    stripe_chain.fail_payout(payout["id"], "account_closed")
    settle(stripe_chain, dispatcher)

    balances = ledger_balances()
    assert balances == {"stripe_balance": 9_680, "sales": -10_000, "stripe_fees": 320}
    record = services.payouts().get(payout["id"])
    assert record is not None
    assert (record.status, record.failure_code) == ("failed", "account_closed")


def test_duplicated_and_reordered_payout_news_books_each_move_once(
    stripe_chain, dispatcher, webhook_endpoint
):
    stripe_chain.set_webhook_chaos(WebhookChaos(seed=11, duplicates=0.6, max_delay_ms=120, reorder=True))
    pay()
    (first,) = stripe_chain.run_payouts("usd")
    pay(order_id="order-payout-2")
    (second,) = stripe_chain.run_payouts("usd")
    stripe_chain.fail_payout(second["id"], "account_closed")
    settle(stripe_chain, dispatcher)
    stripe_chain.set_webhook_chaos(None)
    # The run really met Stripe's worst for payouts: repeats and another order than Stripe's own.
    payout_events = [e["id"] for e in stripe_chain.events("payout.*")]
    arrived = [event_id for event_id, _ in webhook_endpoint.answers if event_id in set(payout_events)]
    assert len(arrived) > len(set(arrived))
    assert list(dict.fromkeys(arrived)) != payout_events

    balances = ledger_balances()
    assert balances["bank"] == first["amount"]  # the failed one is not at the bank
    assert balances["stripe_balance"] == second["amount"]
    assert sum(balances.values()) == 0
    entries = [e for e in journal() if e.payout_id]
    assert len({e.entry_id for e in entries}) == len(entries)
