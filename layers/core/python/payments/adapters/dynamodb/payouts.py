"""PAYOUT#<po_id> / STATE items of the ledger table: what Stripe told us of each payout.

Kept with the ledger it feeds. A save is conditioned on the version it replaces, so two deliveries
of Stripe's news racing each other cannot both move the payout.
"""

from __future__ import annotations

from typing import Any

from payments.adapters.dynamodb.codec import from_item, to_item, value
from payments.adapters.dynamodb.table import TableAdapter
from payments.domain.errors import ConcurrentUpdate
from payments.domain.payout import Payout, PayoutStatus


def _key(payout_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"PAYOUT#{payout_id}"}, "sk": {"S": "STATE"}}


def payout_to_item(payout: Payout) -> dict[str, Any]:
    return to_item(
        {
            "pk": f"PAYOUT#{payout.id}",
            "sk": "STATE",
            "id": payout.id,
            "amount": payout.amount,
            "currency": payout.currency,
            "status": payout.status.value,
            "automatic": payout.automatic,
            "created_at": payout.created_at,
            "updated_at": payout.updated_at,
            "version": payout.version,
            "previous_status": payout.previous_status.value if payout.previous_status else None,
            "arrival_date": payout.arrival_date,
            "failure_code": payout.failure_code,
            "stripe_event_id": payout.stripe_event_id,
        }
    )


def payout_from_item(item: dict[str, Any]) -> Payout:
    values = from_item(item)
    previous = values.get("previous_status")
    return Payout(
        id=values["id"],
        amount=values["amount"],
        currency=values["currency"],
        status=PayoutStatus(values["status"]),
        automatic=values["automatic"],
        created_at=values["created_at"],
        updated_at=values["updated_at"],
        version=values["version"],
        previous_status=PayoutStatus(previous) if previous else None,
        arrival_date=values.get("arrival_date"),
        failure_code=values.get("failure_code"),
        stripe_event_id=values.get("stripe_event_id"),
    )


class DynamoPayouts(TableAdapter):
    def get(self, payout_id: str) -> Payout | None:
        item = self._db.get_item(TableName=self.table, Key=_key(payout_id), ConsistentRead=True).get("Item")
        return payout_from_item(item) if item else None

    def save(self, payout: Payout) -> None:
        condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        if payout.version > 1:
            condition = {
                "ConditionExpression": "version = :expected",
                "ExpressionAttributeValues": {":expected": value(payout.version - 1)},
            }
        try:
            self._db.put_item(TableName=self.table, Item=payout_to_item(payout), **condition)
        except self._db.exceptions.ConditionalCheckFailedException:
            raise ConcurrentUpdate(f"payout {payout.id} changed concurrently") from None
