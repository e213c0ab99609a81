"""The ledger's trial balance, read from the `ledger` table in moto through the Ledger adapter (the one
reader of the table's format), for checks that look at the local stack from outside its API. The demo
reads it over the API (GET /v1/ledger/balances)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from infra import catalog
from infra.local import resources
from payments.domain.ledger import JournalEntry, balances


@dataclass
class TrialBalance:
    entries: int = 0
    balances: dict[str, dict[str, int]] = field(default_factory=dict)  # currency -> account -> balance

    def totals(self) -> dict[str, int]:
        return {currency: sum(accounts.values()) for currency, accounts in self.balances.items()}

    @property
    def balanced(self) -> bool:
        return all(total == 0 for total in self.totals().values())


def read_items(dynamodb: Any, currencies: Sequence[str] = ("usd",)) -> list[JournalEntry]:
    """The entries booked yesterday and today (UTC: a run over midnight keeps its first entries)."""
    from payments.adapters.dynamodb.ledger import DynamoLedger

    ledger = DynamoLedger(resources.LOCAL_NAMES[catalog.LEDGER.name], db=dynamodb)
    today = datetime.now(UTC).date()
    period = ((today - timedelta(days=1)).isoformat(), today.isoformat())
    return [entry for currency in currencies for entry in ledger.entries(currency, *period)]


def trial_balance(entries: Iterable[JournalEntry]) -> TrialBalance:
    found = list(entries)
    report: dict[str, dict[str, int]] = defaultdict(dict)
    for (currency, account), amount in balances(found).items():
        report[currency][str(account)] = amount
    return TrialBalance(entries=len(found), balances=dict(report))
