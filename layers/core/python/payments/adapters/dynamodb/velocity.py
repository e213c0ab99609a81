"""The pre-authorization checks' counters, in the risk table, each item with its time to live
(`expiration`):

- `VELOCITY#<customer|card|ip>#<value>` / `<YYYY-MM-DDTHH>`: one subject's hour. `aMM` and `dMM` are
  the attempts and the declines of minute MM, `cards` the cards (a hash of each fingerprint) it used in
  that hour. An attempt is one UpdateItem (`ADD aMM :1`, ReturnValues ALL_NEW): DynamoDB applies
  concurrent ADDs to an item one after the other, so the Nth attempt of an hour reads N. The subject's
  earlier hours of the window are read after it with one consistent Query (never the hour it holds
  already), which sees every attempt counted there before: whatever the interleaving, the Nth attempt of a
  window counts at least N. One edge is left: while two Lambdas' clocks disagree about which hour it is
  (milliseconds, at the turn of an hour), an attempt counted in the new hour is not seen by one counted
  at that instant in the old; every attempt after them sees both.
- `VELOCITY#day#<customer_id>` / `<YYYY-MM-DD>#<currency>`: the customer's `total` of the UTC day, one
  conditional ADD: it grows only while it stays within the limit.
- `VELOCITY#decline#<payment_id>` / `COUNTED`: the payment's decline is counted, written in the one
  transaction that counts it, so a repeated webhook counts nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from payments.adapters.dynamodb.codec import from_item, to_item, value
from payments.adapters.dynamodb.table import TableAdapter
from payments.application.ports import DayAmount, DayTotal, Subject, VelocityHistory
from payments.domain.errors import StoreUnavailable
from payments.domain.risk_rules import MAX_WINDOW_SECONDS

T = TypeVar("T")
HOUR = 3600
DAY = 24 * HOUR
# Stripe retries a webhook for 3 days: a decline's mark outlives its last repeat.
DECLINE_MARK_SECONDS = 4 * DAY
CONFLICT_ATTEMPTS = 3
_SLOT = re.compile(r"^([ad])(\d{2})$")


def card_hash(fingerprint: str) -> str:
    """What a subject's `cards` keeps of a card: enough to tell cards apart, short, not the fingerprint."""
    return hashlib.sha256(fingerprint.encode()).hexdigest()[:12]


def _seconds(at: str) -> int:
    return int(datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp())


def _hour_key(hour: int) -> str:
    return datetime.fromtimestamp(hour * HOUR, UTC).strftime("%Y-%m-%dT%H")


def _hour_of(key: str) -> int:
    return int(datetime.strptime(key, "%Y-%m-%dT%H").replace(tzinfo=UTC).timestamp()) // HOUR


def _subject_pk(subject: Subject) -> str:
    return f"VELOCITY#{subject.kind}#{subject.value}"


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _day_key(amount: DayAmount) -> dict[str, Any]:
    return _key(f"VELOCITY#day#{amount.customer_id}", f"{amount.day}#{amount.currency}")


def _day_end(day: str) -> int:
    return int(datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()) + DAY


class DynamoVelocity(TableAdapter):
    def count_attempt(
        self, windows: Mapping[Subject, int], card: str | None, at: str
    ) -> dict[Subject, VelocityHistory]:
        minute = _seconds(at) // 60
        return {subject: self._count(subject, window, card, minute) for subject, window in windows.items()}

    def add_to_day(self, amount: DayAmount, limit: int) -> DayTotal:
        # An amount over the limit on its own never fits, not even in an empty day.
        condition = "#total <= :room" + (" OR attribute_not_exists(#total)" if amount.amount <= limit else "")
        try:
            answer = self._conflicts_retried(
                lambda: self._db.update_item(
                    TableName=self.table,
                    Key=_day_key(amount),
                    UpdateExpression="ADD #total :amount SET expiration = :expires",
                    ConditionExpression=condition,
                    ExpressionAttributeNames={"#total": "total"},
                    ExpressionAttributeValues={
                        ":amount": value(amount.amount),
                        ":room": value(limit - amount.amount),
                        ":expires": value(_day_end(amount.day) + DAY),
                    },
                    ReturnValues="UPDATED_NEW",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            )
        except ClientError as refused:
            if _code(refused) != "ConditionalCheckFailedException":
                raise
            return DayTotal(False, int(from_item(refused.response.get("Item") or {}).get("total", 0)))
        return DayTotal(True, int(from_item(answer["Attributes"])["total"]))

    def record_decline(
        self, payment_id: str, subjects: Sequence[Subject], at: str, give_back: DayAmount | None
    ) -> bool:
        seconds = _seconds(at)
        minute, hour = seconds // 60, seconds // HOUR
        mark = {
            "Put": {
                "TableName": self.table,
                "Item": {
                    **_key(f"VELOCITY#decline#{payment_id}", "COUNTED"),
                    **to_item({"counted_at": at, "expiration": seconds + DECLINE_MARK_SECONDS}),
                },
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        counts = [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": _key(_subject_pk(subject), _hour_key(hour)),
                    # Kept as long as the longest window could ask, unless an attempt set it already.
                    "UpdateExpression": "ADD #d :one SET expiration = if_not_exists(expiration, :expires)",
                    "ExpressionAttributeNames": {"#d": f"d{minute % 60:02d}"},
                    "ExpressionAttributeValues": {
                        ":one": value(1),
                        ":expires": value((hour + 1) * HOUR + MAX_WINDOW_SECONDS),
                    },
                }
            }
            for subject in subjects
        ]
        if give_back is not None:
            counts.append(
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": _day_key(give_back),
                        "UpdateExpression": "ADD #t :minus SET expiration = if_not_exists(expiration, :e)",
                        "ExpressionAttributeNames": {"#t": "total"},
                        "ExpressionAttributeValues": {
                            ":minus": value(-give_back.amount),
                            ":e": value(_day_end(give_back.day) + DAY),
                        },
                    }
                }
            )
        try:
            self._conflicts_retried(lambda: self._db.transact_write_items(TransactItems=[mark, *counts]))
        except ClientError as error:
            if _code(error) != "TransactionCanceledException":
                raise
            reasons = error.response.get("CancellationReasons") or []
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                return False
            raise StoreUnavailable("the risk counters are busy; the decline is counted on a retry") from error
        return True

    # ------------------------------------------------------------------ internals

    def _count(self, subject: Subject, window: int, card: str | None, minute: int) -> VelocityHistory:
        hour = minute // 60
        update = "ADD #a :one SET expiration = :expires"
        values: dict[str, Any] = {":one": value(1), ":expires": value((hour + 1) * HOUR + window)}
        if card and subject.kind != "card":
            update = "ADD #a :one, cards :card SET expiration = :expires"
            values[":card"] = {"SS": [card_hash(card)]}
        current = self._conflicts_retried(
            lambda: self._db.update_item(
                TableName=self.table,
                Key=_key(_subject_pk(subject), _hour_key(hour)),
                UpdateExpression=update,
                ExpressionAttributeNames={"#a": f"a{minute % 60:02d}"},
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )["Attributes"]
        )
        # A window of W seconds ending in this hour starts at most ceil(W / 1 h) hours before it: always
        # at least the one before, so every attempt makes the same requests, whatever the minute.
        first = hour - -(-window // HOUR)
        hours = {_hour_of(item["sk"]["S"]): item for item in self._earlier_hours(subject, first, hour)}
        hours[hour] = current
        return _history(minute, hours)

    def _earlier_hours(self, subject: Subject, first_hour: int, hour: int) -> list[dict[str, Any]]:
        return self._query_all(
            KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
            ExpressionAttributeValues={
                ":pk": {"S": _subject_pk(subject)},
                ":first": {"S": _hour_key(first_hour)},
                ":last": {"S": _hour_key(hour - 1)},
            },
            ConsistentRead=True,
        )

    def _conflicts_retried(self, call: Callable[[], T]) -> T:
        """A write refused because a transaction held its item was not applied: it is sent again.
        Throttling is botocore's to retry."""
        for _attempt in range(CONFLICT_ATTEMPTS - 1):
            try:
                return call()
            except ClientError as error:
                if not _conflicted(error):
                    raise
        try:
            return call()
        except ClientError as error:
            if _code(error) == "TransactionConflictException":
                raise StoreUnavailable("the risk counters are busy; retry the request") from error
            raise


# Errors are told by their code, not by the client's exception classes (each client has its own).
def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _conflicted(error: ClientError) -> bool:
    """Refused, so not applied, because a transaction held the item (a failed condition is an answer)."""
    code = _code(error)
    reasons = {reason.get("Code") for reason in error.response.get("CancellationReasons") or []}
    if code == "TransactionCanceledException":
        return "TransactionConflict" in reasons and "ConditionalCheckFailed" not in reasons
    return code == "TransactionConflictException"


def _history(minute: int, hours: Mapping[int, dict[str, Any]]) -> VelocityHistory:
    attempts: dict[int, int] = {}
    declines: dict[int, int] = {}
    cards: dict[int, frozenset[str]] = {}
    for hour, item in hours.items():
        values = from_item(item)
        for name, count in values.items():
            slot = _SLOT.match(name)
            if slot:
                kind, at_minute = slot.groups()
                (attempts if kind == "a" else declines)[hour * 60 + int(at_minute)] = int(count)
        if values.get("cards"):
            cards[hour] = frozenset(values["cards"])
    return VelocityHistory(minute=minute, attempts=attempts, declines=declines, cards=cards)
