"""The ledger table: one item per journal entry.

Key: `JOURNAL#<currency>#<YYYY-MM-DD>#<shard>` / `<occurred_at>#<source event id>`, with SHARDS shards
per currency and day. The booking date and time come from the source event and the shard from a stable
hash of its id (`shard_of`), so a redelivered event lands on the same key and the conditional put makes
booking idempotent. One partition per currency and day would take every entry of a busy day, past the
~1,000 writes/s DynamoDB allows a partition; the shards spread them SHARDS-fold.

Reads query every shard of every day of the period (side by side; Query alone, which is all the
ledger's readers may do). The sort key orders entries oldest first within a shard, and a page merges
the shards of a day on it, so the journal reads oldest first across shards as well (a page reads at
most PAGE_DAYS days, so a sparse period may give short pages before its end). Entries written
before the shards (`JOURNAL#<currency>#<day>`, no shard) are not read: the service had not gone live.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

from payments.adapters.aws import client
from payments.adapters.dynamodb import shards
from payments.adapters.dynamodb.codec import from_item, to_item
from payments.domain.ledger import Account, JournalEntry, Line

SHARDS = shards.JOURNAL_SHARDS  # partitions per currency and day: ~1,000 write units a second each
READERS = shards.READERS
# A page reads at most this many days (16 queries each), so a sparse period cannot hold one request
# past its timeout: it may then come back short, even empty, with the cursor of the next day.
PAGE_DAYS = 31


def shard_of(entry_id: str) -> int:
    """The entry's shard: CRC-32 of its id (Python's hash() is salted per process, this is not)."""
    return shards.shard_of(entry_id, SHARDS)


def _partition(currency: str, day: str, shard: int) -> str:
    return f"JOURNAL#{currency}#{day}#{shard}"


def entry_to_item(entry: JournalEntry, recorded_at: str) -> dict[str, Any]:
    return to_item(
        {
            "pk": _partition(entry.currency, entry.occurred_at[:10], shard_of(entry.entry_id)),
            "sk": f"{entry.occurred_at}#{entry.entry_id}",
            "entry_id": entry.entry_id,
            "source": entry.source,
            "payment_id": entry.payment_id,
            "currency": entry.currency,
            "occurred_at": entry.occurred_at,
            "recorded_at": recorded_at,
            "lines": [{"account": str(line.account), "amount": line.amount} for line in entry.lines],
            "stripe_object_id": entry.stripe_object_id,
            "payout_id": entry.payout_id,
        }
    )


def entry_from_item(item: dict[str, Any]) -> JournalEntry:
    values = from_item(item)
    return JournalEntry(
        entry_id=values["entry_id"],
        source=values["source"],
        payment_id=values.get("payment_id"),
        currency=values["currency"],
        occurred_at=values["occurred_at"],
        lines=tuple(Line(Account(line["account"]), line["amount"]) for line in values["lines"]),
        stripe_object_id=values.get("stripe_object_id"),
        payout_id=values.get("payout_id"),
    )


def _days(first_day: str, last_day: str) -> Iterator[str]:
    day, last = date.fromisoformat(first_day), date.fromisoformat(last_day)
    while day <= last:
        yield day.isoformat()
        day += timedelta(days=1)


def _sort_key(item: dict[str, Any]) -> str:
    return str(item["sk"]["S"])


def _merge(answers: list[tuple[list[dict[str, Any]], bool]], want: int) -> tuple[list[dict[str, Any]], bool]:
    """A day's next `want` items across its shards, oldest first, and whether the day has more."""
    return shards.merge(answers, want, _sort_key)


class DynamoLedger:
    def __init__(self, table: str, db: Any = None) -> None:
        self.table = table
        self._client = db  # None: the function's shared client (the local stack passes moto's)

    @property
    def _db(self) -> Any:
        return self._client if self._client is not None else client("dynamodb")

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
        partitions = [
            _partition(currency, day, shard) for day in _days(first_day, last_day) for shard in range(SHARDS)
        ]
        db = self._db
        with ThreadPoolExecutor(READERS) as pool:
            found = [item for items in pool.map(lambda pk: self._all(db, pk), partitions) for item in items]
        return [entry_from_item(item) for item in sorted(found, key=_sort_key)]

    def page(
        self, currency: str, first_day: str, last_day: str, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[JournalEntry], dict[str, Any] | None]:
        # Where the next read starts: a day, and the last sort key already returned of it (None: none).
        day, after = (start["day"], start.get("after")) if start else (first_day, None)
        found: list[dict[str, Any]] = []
        days_read = 0
        db = self._db
        with ThreadPoolExecutor(READERS) as pool:

            def shards(day: str, after: str | None, want: int) -> list[tuple[list[dict[str, Any]], bool]]:
                pks = [_partition(currency, day, shard) for shard in range(SHARDS)]
                return list(pool.map(lambda pk: self._query(db, pk, after, want), pks))

            while day <= last_day and len(found) < limit and days_read < PAGE_DAYS:
                want = limit - len(found)
                taken, more = _merge(shards(day, after, want), want)
                found.extend(taken)
                if more:
                    after = _sort_key(taken[-1])
                else:
                    day, after = (date.fromisoformat(day) + timedelta(days=1)).isoformat(), None
                    days_read += 1
        next_key = {"day": day, "after": after} if day <= last_day else None
        return [entry_from_item(item) for item in found], next_key

    def _query(
        self, db: Any, pk: str, after: str | None, limit: int | None
    ) -> tuple[list[dict[str, Any]], bool]:
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
            "ConsistentRead": True,
        }
        if after is not None:
            request["KeyConditionExpression"] += " AND sk > :after"
            request["ExpressionAttributeValues"][":after"] = {"S": after}
        if limit is not None:
            request["Limit"] = limit
        response = db.query(**request)
        return response.get("Items", []), "LastEvaluatedKey" in response

    def _all(self, db: Any, pk: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            items, more = self._query(db, pk, after, None)
            found.extend(items)
            if not more or not items:
                return found
            after = _sort_key(items[-1])
