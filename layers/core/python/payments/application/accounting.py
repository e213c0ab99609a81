"""The accounting subscriber's use case: our money-moving domain events -> ledger entries.

One entry per source event id, written with a conditional put: a redelivered or republished event
finds its entry and books nothing (delivery is at least once). Entries commute, so the order in
which events arrive does not change any balance.
"""

from __future__ import annotations

from enum import StrEnum

from payments.application.ports import Ledger
from payments.domain.events import PaymentEvent, PayoutEvent
from payments.domain.ledger import Account, balances, journal_entry


class LedgerOutcome(StrEnum):
    """What an event did to the ledger; the value is the metric counted."""

    BOOKED = "JournalEntriesBooked"
    DUPLICATE = "JournalEntriesDuplicate"
    NOTHING_TO_BOOK = "LedgerEventsWithoutMoney"


def book(event: PaymentEvent | PayoutEvent, ledger: Ledger) -> LedgerOutcome:
    entry = journal_entry(event)
    if entry is None:
        return LedgerOutcome.NOTHING_TO_BOOK
    return LedgerOutcome.BOOKED if ledger.record(entry) else LedgerOutcome.DUPLICATE


def account_balances(ledger: Ledger, currency: str, first_day: str, last_day: str) -> dict[Account, int]:
    """Each account's balance (debit positive) over the period; a trial balance sums them to zero."""
    entries = ledger.entries(currency, first_day, last_day)
    return {account: amount for (_, account), amount in sorted(balances(entries).items()) if amount}
