"""accounting: our domain events (through the catalog's real rule) -> balanced journal entries in the
ledger table, one per source event; the trial balance is zero per currency (docs/ledger.md)."""

from __future__ import annotations

import pytest

from infra import catalog
from payments.domain.ledger import BOOKED_EVENTS
from tests.support.bus import put
from tests.support.stripe_webhooks import (
    bus_sample,
    history,
    intent_of,
    journal,
    ledger_balances,
    pay,
    payment,
)


def put_domain_event(detail: dict) -> None:
    put(catalog.DOMAIN_EVENT_SOURCE, detail["event_type"], detail)


def refund_issued(paid: dict, amount: int) -> dict:
    """RefundIssued as the refunds flow emits it, from the sample, for `paid`."""
    detail = bus_sample("RefundIssued")["detail"]
    # A version of its own: event ids only need to be unique, and the dispute's events follow v2.
    detail.update(event_id=f"{paid['id']}:v90", version=90, payment_id=paid["id"], order_id=paid["order_id"])
    detail["data"].update(amount=paid["amount"], amount_captured=paid["amount"], amount_refunded=amount)
    detail["data"]["refund"].update(amount=amount, currency=paid["currency"])
    return detail


def test_pay_partial_refund_dispute_lost_balances_to_zero(stripe_chain, dispatcher):
    paid = pay()  # 100.00 usd, Stripe's fee 3.20
    put_domain_event(refund_issued(paid, 3_000))
    dispute = stripe_chain.create_dispute(intent_of(paid["id"], stripe_chain)["id"], reason="fraudulent")
    stripe_chain.close_dispute(dispute["id"], won=False)
    assert stripe_chain.wait_for_webhooks(timeout=10)
    assert {d.outcome for d in dispatcher.drain()} == {"ok"}

    assert payment(paid["id"])["dispute"]["status"] == "lost"
    balances = ledger_balances()
    assert balances == {
        "stripe_balance": -4_820,  # 9,680 - 3,000 - (10,000 + 1,500): Stripe will debit the bank
        "sales": -10_000,
        "refunds": 3_000,
        "stripe_fees": 320,
        "dispute_fees": 1_500,
        "chargeback_losses": 10_000,
    }
    assert sum(balances.values()) == 0
    entries = journal()
    assert sorted(e.source for e in entries) == [
        "ChargebackReceived",
        "DisputeClosed",
        "PaymentProcessed",
        "RefundIssued",
    ]
    assert all(sum(line.amount for line in e.lines) == 0 for e in entries)
    assert history(paid["id"])[-2:] == ["ChargebackReceived", "DisputeClosed"]


# The DisputeUpdated sample moves no money (the dispute went under review): see the next test.
@pytest.mark.parametrize("event_type", sorted(BOOKED_EVENTS - {"DisputeUpdated"}))
def test_every_sample_of_a_booked_type_books_one_balanced_entry(aws, emulator, dispatcher, event_type):
    detail = bus_sample(event_type)["detail"]
    put_domain_event(detail)
    put_domain_event(detail)  # at least once: the same event again
    assert [d.outcome for d in dispatcher.drain()] == ["ok", "ok"]

    entries = journal()
    assert len(entries) == 1
    (entry,) = entries
    assert (entry.entry_id, entry.source) == (detail["event_id"], event_type)
    assert sum(line.amount for line in entry.lines) == 0


def test_an_event_that_moves_no_money_books_nothing(aws, emulator, dispatcher, emitted_metrics):
    put_domain_event(bus_sample("DisputeUpdated")["detail"])
    assert [d.outcome for d in dispatcher.drain()] == ["ok"]
    assert journal() == []
    assert emitted_metrics()["LedgerEventsWithoutMoney"] == 1


def test_a_domain_event_missing_fields_ends_in_the_dlq(aws, emulator, dispatcher):
    detail = bus_sample("PaymentProcessed")["detail"]
    del detail["data"]["amount_captured"]
    put_domain_event(detail)
    assert [d.outcome for d in dispatcher.drain()] == ["retry", "retry", "dlq"]
    assert journal() == []
