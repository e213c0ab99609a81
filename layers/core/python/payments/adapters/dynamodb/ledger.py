"""The ledger table: one item per journal entry.

Key: `JOURNAL#<currency>#<YYYY-MM-DD>` / `<occurred_at>#<source event id>`. The booking date and time
come from the source event, so a redelivered event lands on the same key and the conditional put makes
booking idempotent. A day per partition keeps writes spread and lets a report (trial balance, account
balances) read a currency's period with Query alone, which is all the accounting function may do.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from payments.adapters.aws import client
from payments.adapters.dynamodb.codec import from_item, to_item
from payments.domain.ledger import Account, JournalEntry, Line


def _partition(currency: str, day: str) -> str:
    return f"JOURNAL#{currency}#{day}"


def entry_to_item(entry: JournalEntry, recorded_at: str) -> dict[str, Any]:
    return to_item(
        {
            "pk": _partition(entry.currency, entry.occurred_at[:10]),
            "sk": f"{entry.occurred_at}#{entry.entry_id}",
            "entry_id": entry.entry_id,
            "source": entry.source,
            "payment_id": entry.payment_id,
            "currency": entry.currency,
            "occurred_at": entry.occurred_at,
            "recorded_at": recorded_at,
            "lines": [{"account": str(line.account), "amount": line.amount} for line in entry.lines],
        }
    )


def entry_from_item(item: dict[str, Any]) -> JournalEntry:
    values = from_item(item)
    return JournalEntry(
        entry_id=values["entry_id"],
        source=values["source"],
        payment_id=values["payment_id"],
        currency=values["currency"],
        occurred_at=values["occurred_at"],
        lines=tuple(Line(Account(line["account"]), line["amount"]) for line in values["lines"]),
    )


class DynamoLedger:
    def __init__(self, table: str) -> None:
        self.table = table

    @property
    def _db(self) -> Any:
        return client("dynamodb")

    def record(self, entry: JournalEntry) -> bool:
        recorded_at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        try:
            self._db.put_item(
                TableName=self.table,
                Item=entry_to_item(entry, recorded_at),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def entries(self, currency: str, first_day: str, last_day: str) -> list[JournalEntry]:
        day, last = date.fromisoformat(first_day), date.fromisoformat(last_day)
        found: list[JournalEntry] = []
        while day <= last:
            request: dict[str, Any] = {
                "TableName": self.table,
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {":pk": {"S": _partition(currency, day.isoformat())}},
                "ConsistentRead": True,
            }
            while True:
                response = self._db.query(**request)
                found.extend(entry_from_item(item) for item in response.get("Items", []))
                if "LastEvaluatedKey" not in response:
                    break
                request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
            day += timedelta(days=1)
        return found
