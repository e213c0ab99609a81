"""Booking rules: every entry balances, and pay -> partial refund -> dispute lost ends where a bookkeeper
would put it (docs/ledger.md walks through the same numbers)."""

import pytest

from payments.domain.dispute import StripeDispute, apply_dispute
from payments.domain.events import DomainEvent, PaymentEvent
from payments.domain.ledger import Account, JournalEntry, Line, balances, journal_entry
from payments.domain.payment import Payment, PaymentStatus
from tests.support.payments import AT, captured_payment

A = Account


def payment(**changes) -> Payment:
    return captured_payment(**{"stripe_fee": 320, **changes})


def event(p: Payment, event_type: str, **extra) -> PaymentEvent:
    return PaymentEvent.model_validate(DomainEvent.about(p, event_type, AT, **extra).model_dump())


def refund(amount: int, status: str = "succeeded", previous: str | None = None) -> dict:
    return {
        "id": "rfd_1",
        "amount": amount,
        "currency": "usd",
        "status": status,
        "stripe_refund_id": "re_1",
        "previous_status": previous,
    }


def lines(entry: JournalEntry) -> dict[Account, int]:
    return {line.account: line.amount for line in entry.lines}


def test_a_charge_books_sales_fee_and_the_net():
    entry = journal_entry(event(payment(), "PaymentProcessed"))
    assert lines(entry) == {A.STRIPE_BALANCE: 9_680, A.STRIPE_FEES: 320, A.SALES: -10_000}
    assert (entry.entry_id, entry.currency, entry.payment_id) == ("pay_1:v2", "usd", "pay_1")


def test_a_capture_books_like_a_charge():
    assert lines(journal_entry(event(payment(), "PaymentCaptured")))[A.SALES] == -10_000


def test_a_refund_leaves_the_stripe_balance():
    entry = journal_entry(event(payment(amount_refunded=3_000), "RefundIssued", refund=refund(3_000)))
    assert lines(entry) == {A.REFUNDS: 3_000, A.STRIPE_BALANCE: -3_000}


def test_a_failed_refund_is_reversed_only_if_it_had_succeeded():
    failed_later = event(payment(), "RefundFailed", refund=refund(3_000, "failed", previous="succeeded"))
    never_left = event(payment(), "RefundFailed", refund=refund(3_000, "failed", previous="pending"))
    assert lines(journal_entry(failed_later)) == {A.REFUNDS: -3_000, A.STRIPE_BALANCE: 3_000}
    assert journal_entry(never_left) is None


@pytest.mark.parametrize(
    "event_type", ["PaymentInitiated", "PaymentAuthorized", "RefundRequested", "PaymentFailed"]
)
def test_events_that_move_no_money_book_nothing(event_type):
    extra = {"refund": refund(3_000, "pending")} if event_type.startswith("Refund") else {}
    assert journal_entry(event(payment(), event_type, **extra)) is None


def test_an_entry_must_balance():
    with pytest.raises(ValueError, match="does not balance"):
        JournalEntry(
            "e", "PaymentProcessed", "pay_1", "usd", AT, (Line(A.SALES, -1), Line(A.STRIPE_BALANCE, 2))
        )


def test_pay_partial_refund_dispute_lost_ends_where_a_bookkeeper_puts_it():
    entries = [journal_entry(event(payment(), "PaymentProcessed"))]
    refunded = payment(amount_refunded=3_000, status=PaymentStatus.PARTIALLY_REFUNDED, version=3)
    entries.append(journal_entry(event(refunded, "RefundIssued", refund=refund(3_000))))
    disputed = refunded
    for status in ("needs_response", "under_review", "lost"):
        news = StripeDispute("dp_1", status, "fraudulent", 10_000, "usd", amount_withdrawn=10_000, fee=1_500)
        change = apply_dispute(disputed, news, AT)
        disputed = change.payment
        entry = journal_entry(PaymentEvent.model_validate(change.event.model_dump()))
        if entry is not None:
            entries.append(entry)

    totals = {account: amount for (_, account), amount in balances(entries).items() if amount}
    assert totals == {
        A.STRIPE_BALANCE: -4_820,  # 9,680 net of the charge - 3,000 refunded - 11,500 withdrawn with the fee
        A.SALES: -10_000,
        A.REFUNDS: 3_000,
        A.STRIPE_FEES: 320,
        A.DISPUTE_FEES: 1_500,
        A.CHARGEBACK_LOSSES: 10_000,
    }  # disputed_funds went in and out: 0
    assert sum(totals.values()) == 0
    assert [e.source for e in entries] == [
        "PaymentProcessed",
        "RefundIssued",
        "ChargebackReceived",
        "DisputeClosed",
    ]
