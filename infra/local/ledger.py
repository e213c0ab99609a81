"""The ledger's trial balance, read straight from the `ledger` table in moto (the demo's last step).

The accounting subscriber owns the table's format; this is the one place that reads it. It accepts
journal entries that carry their lines as a list (`lines` or `entries`) of {account, currency, amount}
with a signed amount (or separate debit/credit), and single-line items with the same fields.
Adapt `_lines` when the format settles.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from infra import catalog
from infra.local import resources

Line = tuple[str, str, int]  # account, currency, signed amount in minor units (debit positive)


@dataclass
class TrialBalance:
    entries: int = 0
    unreadable: int = 0  # items without journal lines (e.g. balance records): reported, not summed
    balances: dict[str, dict[str, int]] = field(default_factory=dict)  # currency -> account -> balance

    def totals(self) -> dict[str, int]:
        return {currency: sum(accounts.values()) for currency, accounts in self.balances.items()}

    @property
    def balanced(self) -> bool:
        return all(total == 0 for total in self.totals().values())


def read_items(dynamodb: Any) -> list[dict[str, Any]]:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": resources.LOCAL_NAMES[catalog.LEDGER.name]}
    while True:
        page = dynamodb.scan(**request)
        items += [{k: deserializer.deserialize(v) for k, v in item.items()} for item in page.get("Items", [])]
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def trial_balance(items: list[dict[str, Any]]) -> TrialBalance:
    report = TrialBalance()
    balances: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for item in items:
        lines = list(_lines(item))
        if not lines:
            report.unreadable += 1
            continue
        report.entries += 1
        for account, currency, amount in lines:
            balances[currency][account] += amount
    report.balances = {currency: dict(accounts) for currency, accounts in balances.items()}
    return report


def _lines(item: dict[str, Any]) -> Iterator[Line]:
    nested = item.get("lines") or item.get("entries")
    for raw in nested if isinstance(nested, list) else [item]:
        line = _line(raw, item)
        if line is not None:
            yield line


def _line(raw: dict[str, Any], entry: dict[str, Any]) -> Line | None:
    account = raw.get("account")
    currency = raw.get("currency") or entry.get("currency")
    if account is None or currency is None:
        return None
    if "amount" in raw:
        amount = int(raw["amount"])
    elif "debit" in raw or "credit" in raw:
        amount = int(raw.get("debit") or 0) - int(raw.get("credit") or 0)
    else:
        return None
    return str(account), str(currency).lower(), amount
