"""The ledger (pure): the chart of accounts and how each domain event is booked.

Double entry in minor units: a line's amount is positive for a debit and negative for a credit, every
entry sums to zero in its one currency, so the trial balance of any set of entries is zero per
currency. One entry per source event (its id is the event id), so booking is idempotent.
The chart and worked examples are in docs/ledger.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from payments.domain.events import PaymentData, PaymentEvent, PayoutData, PayoutEvent, RefundData


class Account(StrEnum):
    # Assets (debit balances)
    STRIPE_BALANCE = "stripe_balance"  # our money held by Stripe, net of its fees
    PAYOUTS_IN_TRANSIT = "payouts_in_transit"  # paid out by Stripe, not at the bank yet
    BANK = "bank"  # arrived at our bank: the sum of the payouts paid
    DISPUTED_FUNDS = "disputed_funds"  # taken by an open dispute; comes back if we win
    # Revenue (credit balance) and its contra account
    SALES = "sales"  # gross amounts captured from customers
    REFUNDS = "refunds"  # given back to customers (debit balance, reduces sales)
    # Expenses (debit balances)
    STRIPE_FEES = "stripe_fees"  # processing fees on charges
    DISPUTE_FEES = "dispute_fees"  # Stripe's fee per dispute
    CHARGEBACK_LOSSES = "chargeback_losses"  # disputed funds lost for good


@dataclass(frozen=True)
class Line:
    account: Account
    amount: int  # minor units; debit > 0, credit < 0


@dataclass(frozen=True)
class JournalEntry:
    entry_id: str  # the source event's id
    source: str  # the source event's type
    payment_id: str | None  # the payment it books (None: a payout's entry)
    currency: str
    occurred_at: str  # when the source event happened (RFC 3339 UTC): the booking date
    lines: tuple[Line, ...]
    # The Stripe object whose balance transactions this entry mirrors (ch_, re_, dp_, po_...): what
    # reconciliation matches a balance transaction's `source` against. None: no Stripe money moved.
    stripe_object_id: str | None = None
    payout_id: str | None = None  # the payout it books

    def __post_init__(self) -> None:
        if sum(line.amount for line in self.lines) != 0:
            raise ValueError(f"journal entry {self.entry_id} does not balance: {self.lines}")

    @property
    def debits(self) -> int:
        return sum(line.amount for line in self.lines if line.amount > 0)


def _lines(*pairs: tuple[Account, int]) -> tuple[Line, ...]:
    """One line per account (amounts of the same account netted), zero lines dropped."""
    totals: dict[Account, int] = {}
    for account, amount in pairs:
        totals[account] = totals.get(account, 0) + amount
    return tuple(Line(account, amount) for account, amount in totals.items() if amount)


def _charge(data: PaymentData) -> tuple[str, tuple[Line, ...]]:
    """A captured charge: Stripe keeps its fee and credits us the net."""
    captured, fee = data.amount_captured, data.stripe_fee or 0
    return data.currency, _lines(
        (Account.STRIPE_BALANCE, captured - fee), (Account.STRIPE_FEES, fee), (Account.SALES, -captured)
    )


def _late_fee(data: PaymentData) -> tuple[str, tuple[Line, ...]]:
    """Stripe's fee, known after the charge was booked without one: Stripe kept it from our balance."""
    fee = data.fee_recorded or 0
    return data.currency, _lines((Account.STRIPE_FEES, fee), (Account.STRIPE_BALANCE, -fee))


def _refund_of(data: PaymentData) -> RefundData:
    if data.refund is None:
        raise ValueError("a refund event without data.refund cannot be booked")
    return data.refund


def _refund(data: PaymentData) -> tuple[str, tuple[Line, ...]]:
    """A refund leaves our Stripe balance; Stripe does not return the charge's fee."""
    refund = _refund_of(data)
    return refund.currency, _lines((Account.REFUNDS, refund.amount), (Account.STRIPE_BALANCE, -refund.amount))


def _refund_reversed(data: PaymentData) -> tuple[str, tuple[Line, ...]]:
    """A refund that failed after it had succeeded: the money is back in our Stripe balance."""
    refund = _refund_of(data)
    if refund.previous_status != "succeeded":
        return refund.currency, ()  # it never left
    currency, lines = _refund(data)
    return currency, tuple(Line(line.account, -line.amount) for line in lines)


def _dispute(data: PaymentData) -> tuple[str, tuple[Line, ...]]:
    """Money a dispute event moved: withdrawn into `disputed_funds` (plus the fee), reinstated out of
    it, or, once the dispute is lost, moved from it into `chargeback_losses`."""
    move = data.dispute_movement
    if move is None:
        return data.currency, ()
    return move.currency, _lines(
        (Account.DISPUTED_FUNDS, move.withdrawn),
        (Account.DISPUTE_FEES, move.fee),
        (Account.STRIPE_BALANCE, -move.withdrawn - move.fee),
        (Account.STRIPE_BALANCE, move.reinstated + move.fee_reinstated),
        (Account.DISPUTED_FUNDS, -move.reinstated),
        (Account.DISPUTE_FEES, -move.fee_reinstated),
        (Account.CHARGEBACK_LOSSES, move.lost),
        (Account.DISPUTED_FUNDS, -move.lost),
    )


def stripe_object_of(event_type: str, data: PaymentData) -> str | None:
    """The Stripe object whose balance transaction the event's entry mirrors."""
    if event_type in ("RefundIssued", "RefundFailed"):
        return _refund_of(data).stripe_refund_id
    if event_type in ("ChargebackReceived", "DisputeUpdated", "DisputeClosed"):
        return data.dispute.id if data.dispute else None
    return data.stripe_charge_id


RULES: dict[str, Callable[[PaymentData], tuple[str, tuple[Line, ...]]]] = {
    "PaymentProcessed": _charge,
    "PaymentCaptured": _charge,
    "PaymentFeeRecorded": _late_fee,
    "RefundIssued": _refund,
    "RefundFailed": _refund_reversed,
    "ChargebackReceived": _dispute,
    "DisputeUpdated": _dispute,
    "DisputeClosed": _dispute,
}


PAYOUT_EVENTS = frozenset({"PayoutCreated", "PayoutPaid", "PayoutFailed", "PayoutCanceled"})
# Every event type the ledger books: what the accounting subscriber must be sent.
BOOKED_EVENTS = frozenset(RULES) | PAYOUT_EVENTS

# Where our books hold a payout's money in each status it can leave (None: nowhere yet).
_PAYOUT_HELD_IN = {
    None: Account.STRIPE_BALANCE,
    "pending": Account.PAYOUTS_IN_TRANSIT,
    "in_transit": Account.PAYOUTS_IN_TRANSIT,
    "paid": Account.BANK,
}


def _payout(data: PayoutData) -> tuple[Line, ...]:
    """A payout's move from where our books held its money to where it is now: on its way (created),
    at the bank (paid), or back in our Stripe balance (failed or canceled, even after paid)."""
    held_in = _PAYOUT_HELD_IN[data.previous_status]
    if data.status in ("failed", "canceled"):
        # A payout that fails as the first news never left our balance in our books.
        to = Account.STRIPE_BALANCE
    else:
        to = Account.BANK if data.status == "paid" else Account.PAYOUTS_IN_TRANSIT
    return _lines((to, data.amount), (held_in, -data.amount))


def payout_entry(event: PayoutEvent) -> JournalEntry | None:
    lines = _payout(event.data)
    if not lines:
        return None
    return JournalEntry(
        entry_id=event.event_id,
        source=event.event_type,
        payment_id=None,
        currency=event.data.currency,
        occurred_at=event.occurred_at,
        lines=lines,
        stripe_object_id=event.data.id,
        payout_id=event.data.id,
    )


def journal_entry(event: PaymentEvent | PayoutEvent) -> JournalEntry | None:
    """The entry that books `event`; None when the event moves no money."""
    if isinstance(event, PayoutEvent):
        return payout_entry(event)
    rule = RULES.get(event.event_type)
    if rule is None:
        return None
    currency, lines = rule(event.data)
    if not lines:
        return None
    return JournalEntry(
        entry_id=event.event_id,
        source=event.event_type,
        payment_id=event.payment_id,
        currency=currency,
        occurred_at=event.occurred_at,
        lines=lines,
        stripe_object_id=stripe_object_of(event.event_type, event.data),
    )


def balances(entries: Iterable[JournalEntry]) -> dict[tuple[str, Account], int]:
    """Each (currency, account)'s balance, debit positive."""
    totals: dict[tuple[str, Account], int] = {}
    for entry in entries:
        for line in entry.lines:
            key = (entry.currency, line.account)
            totals[key] = totals.get(key, 0) + line.amount
    return totals
