"""Payouts applied forward only, and booked from where our books held the money: whatever order and
however often Stripe's news arrives, the ledger ends the same and balances to zero."""

from __future__ import annotations

import itertools

import pytest

from payments.application.payouts import PayoutOutcome, apply_payout_event
from payments.application.stripe_event import StripeEvent
from payments.domain.errors import ConcurrentUpdate
from payments.domain.events import PayoutEvent
from payments.domain.ledger import Account, balances, journal_entry
from payments.domain.payout import Payout, PayoutStatus, StripePayout, apply_payout

AT = "2026-12-01T12:00:00.000Z"


def news(status: str, amount: int = 5_000) -> StripePayout:
    return StripePayout(id="po_1", amount=amount, currency="usd", status=status, automatic=True)


def replay(statuses: list[str]) -> tuple[Payout | None, dict[Account, int]]:
    """Apply the news in this order, booking each change's event as accounting would."""
    payout: Payout | None = None
    entries = []
    for status in statuses:
        after = apply_payout(payout, news(status), AT)
        if after is None:
            continue
        payout = after
        entry = journal_entry(PayoutEvent.model_validate(after.event().model_dump()))
        if entry is not None:
            entries.append(entry)
    booked = {account: amount for (_, account), amount in balances(entries).items() if amount}
    assert sum(booked.values()) == 0
    return payout, booked


@pytest.mark.parametrize("order", list(itertools.permutations(["pending", "in_transit", "paid"])))
def test_a_paid_payout_ends_at_the_bank_in_any_order(order):
    payout, booked = replay([*order, *order])  # every piece twice
    assert payout is not None
    assert payout.status is PayoutStatus.PAID
    assert booked == {Account.BANK: 5_000, Account.STRIPE_BALANCE: -5_000}


@pytest.mark.parametrize("order", list(itertools.permutations(["pending", "paid", "failed"])))
def test_a_failed_payout_is_back_in_the_balance_in_any_order(order):
    payout, booked = replay(list(order))
    assert payout is not None
    assert payout.status is PayoutStatus.FAILED
    assert booked == {}  # out and back: nothing left anywhere


def test_a_failure_after_paid_takes_the_money_back_from_the_bank():
    payout, _ = replay(["pending", "paid"])
    assert payout is not None
    failed = apply_payout(payout, news("failed"), AT)
    assert failed is not None
    entry = journal_entry(PayoutEvent.model_validate(failed.event().model_dump()))
    assert entry is not None
    assert {line.account: line.amount for line in entry.lines} == {
        Account.STRIPE_BALANCE: 5_000,
        Account.BANK: -5_000,
    }
    assert (entry.payout_id, entry.stripe_object_id, entry.payment_id) == ("po_1", "po_1", None)


def test_in_transit_books_nothing_new_and_older_news_is_ignored():
    created = apply_payout(None, news("pending"), AT)
    assert created is not None
    assert created.event().event_type == "PayoutCreated"
    assert apply_payout(created, news("in_transit"), AT) is None
    paid = apply_payout(created, news("paid"), AT)
    assert paid is not None
    assert (paid.version, paid.previous_status) == (2, PayoutStatus.PENDING)
    assert apply_payout(paid, news("pending"), AT) is None
    assert apply_payout(paid, news("some_status_stripe_adds_later"), AT) is None
    canceled_after_failed = apply_payout(apply_payout(paid, news("failed"), AT), news("canceled"), AT)
    assert canceled_after_failed is None


def test_event_ids_are_stable_for_a_republish():
    paid = apply_payout(apply_payout(None, news("pending"), AT), news("paid"), AT)
    assert paid is not None
    assert paid.event() == paid.event()
    assert paid.event().event_id == "po_1:v2"


class Records:
    """The PayoutRepository port in memory, with its version condition."""

    def __init__(self) -> None:
        self.saved: dict[str, Payout] = {}

    def get(self, payout_id: str) -> Payout | None:
        return self.saved.get(payout_id)

    def save(self, payout: Payout) -> None:
        stored = self.saved.get(payout.id)
        if (stored.version if stored else 0) != payout.version - 1:
            raise ConcurrentUpdate("moved on")
        self.saved[payout.id] = payout


class Bus:
    """The EventPublisher port: fails the first `failures` publishes, as a throttled PutEvents does."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.published: list[str] = []

    def publish(self, events) -> None:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("PutEvents failed")
        self.published.extend(event.event_id for event in events)


def stripe_event(status: str) -> StripeEvent:
    payout = {"object": "payout", "id": "po_1", "amount": 5_000, "currency": "usd", "status": status}
    return StripeEvent.model_validate(
        {
            "id": f"evt_{status}",
            "object": "event",
            "type": f"payout.{status}",
            "created": 1,
            "livemode": False,
            "data": {"object": payout},
        }
    )


def test_an_event_whose_publish_failed_is_published_when_the_news_comes_again():
    records, bus = Records(), Bus(failures=1)
    with pytest.raises(RuntimeError):
        apply_payout_event(stripe_event("paid"), records, bus, source=None)  # type: ignore[arg-type]
    assert records.saved["po_1"].status is PayoutStatus.PAID  # saved, not announced
    # EventBridge retries the delivery: nothing new to save, the same event goes out.
    outcome = apply_payout_event(stripe_event("paid"), records, bus, source=None)  # type: ignore[arg-type]
    assert (outcome, bus.published) == (PayoutOutcome.UNCHANGED, ["po_1:v1"])
    # Other news that moves nothing (an older status) publishes nothing.
    apply_payout_event(stripe_event("pending"), records, bus, source=None)  # type: ignore[arg-type]
    assert bus.published == ["po_1:v1"]
    apply_payout_event(stripe_event("failed"), records, bus, source=None)  # type: ignore[arg-type]
    assert bus.published == ["po_1:v1", "po_1:v2"]
