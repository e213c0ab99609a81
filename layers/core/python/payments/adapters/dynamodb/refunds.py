"""The refund repository over the REFUND#<refund_id> items of the payments table (their mapping is in
payments.py, with the table's other items).

A write is conditioned on the status it replaces (or on the item not existing yet). Status changes
commit together with the payment's version check; only the Stripe id arriving on a pending refund is
written alone, and its condition keeps it from overwriting a newer status.
"""

from __future__ import annotations

from typing import Any

from payments.adapters.dynamodb.payments import (
    AWAITING_STRIPE,
    PREFIX,
    created_before_on_index,
    payment_from_item,
    payment_key,
    refund_from_item,
    refund_key,
    refund_put,
)
from payments.adapters.dynamodb.reads import get_together
from payments.adapters.dynamodb.table import TableAdapter
from payments.domain.payment import Payment
from payments.domain.refund import Refund, RefundChanged


class DynamoRefunds(TableAdapter):
    def get(self, payment_id: str, refund_id: str) -> Refund | None:
        response = self._db.get_item(
            TableName=self.table, Key=refund_key(payment_id, refund_id), ConsistentRead=True
        )
        item = response.get("Item")
        return refund_from_item(item) if item else None

    def with_payment(self, payment_id: str, refund_id: str) -> tuple[Payment | None, Refund | None]:
        payment_item, refund_item = get_together(
            self.table, [payment_key(payment_id), refund_key(payment_id, refund_id)]
        )
        return (
            payment_from_item(payment_item) if payment_item else None,
            refund_from_item(refund_item) if refund_item else None,
        )

    def of_payment(self, payment_id: str) -> list[Refund]:
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": f"PAYMENT#{payment_id}"}, ":prefix": {"S": PREFIX}},
            "ConsistentRead": True,
        }
        refunds: list[Refund] = []
        while True:
            response = self._db.query(**request)
            refunds.extend(refund_from_item(item) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return refunds
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def awaiting_stripe(self, created_before: str, limit: int) -> list[Refund]:
        """Refunds reserved before the moment that Stripe has not answered yet, oldest first."""
        items = created_before_on_index(self.table, AWAITING_STRIPE, created_before, limit)
        refunds = [refund_from_item(item) for item in items]
        return [refund for refund in refunds if refund.awaiting_stripe]

    def save_alone(self, refund: Refund, previous: Refund) -> None:
        try:
            self._db.put_item(**refund_put(self.table, refund, previous))
        except self._db.exceptions.ConditionalCheckFailedException:
            raise RefundChanged(
                f"refund {refund.id} changed concurrently", payment_id=refund.payment_id
            ) from None
