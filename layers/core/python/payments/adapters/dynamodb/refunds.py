"""REFUND#<refund_id> items of the payments table.

Attributes: id, payment_id, amount, currency, status, origin, reason, metadata, stripe_refund_id,
failure_reason, created_at, updated_at (the public refund, see http/schemas.RefundResource), plus
requested_by and request_hash, which stay internal. Absent values are absent attributes.

A write is conditioned on the status it replaces (or on the item not existing yet). Status changes
commit together with the payment's version check; only the Stripe id arriving on a pending refund is
written alone, and its condition keeps it from overwriting a newer status.
"""

from __future__ import annotations

from typing import Any

from payments.adapters.aws import client
from payments.adapters.dynamodb.codec import from_item, to_item, value
from payments.adapters.dynamodb.payments import created_before_on_index, payment_from_item, payment_key
from payments.adapters.dynamodb.reads import get_together
from payments.application.ports import TransactItem
from payments.domain.payment import Payment
from payments.domain.refund import Refund, RefundChanged

PREFIX = "REFUND#"


def refund_key(payment_id: str, refund_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"PAYMENT#{payment_id}"}, "sk": {"S": f"{PREFIX}{refund_id}"}}


AWAITING_STRIPE = "REFUND#awaiting_stripe"


def refund_to_item(refund: Refund) -> dict[str, Any]:
    values: dict[str, Any] = {"pk": f"PAYMENT#{refund.payment_id}", "sk": f"{PREFIX}{refund.id}"}
    values.update(refund.as_record())
    if refund.awaiting_stripe:
        # On the by_status index while Stripe has not answered, so the janitor finds it; the write
        # that records Stripe's answer replaces the item without these.
        values.update(status_pk=AWAITING_STRIPE, created_sk=f"{refund.created_at}#{refund.id}")
    return to_item(values)


def refund_from_item(item: dict[str, Any]) -> Refund:
    return Refund.from_record(from_item(item))


class DynamoRefunds:
    def __init__(self, table: str) -> None:
        self.table = table

    @property
    def _db(self) -> Any:
        return client("dynamodb")

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
        return [refund_from_item(item) for item in items]

    def write(self, refund: Refund, previous: Refund | None) -> TransactItem:
        return TransactItem({"Put": self._put(refund, previous)})

    def save_alone(self, refund: Refund, previous: Refund) -> None:
        try:
            self._db.put_item(**self._put(refund, previous))
        except self._db.exceptions.ConditionalCheckFailedException:
            raise RefundChanged(
                f"refund {refund.id} changed concurrently", payment_id=refund.payment_id
            ) from None

    def _put(self, refund: Refund, previous: Refund | None) -> dict[str, Any]:
        put: dict[str, Any] = {"TableName": self.table, "Item": refund_to_item(refund)}
        if previous is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "#status = :previous"
            put["ExpressionAttributeNames"] = {"#status": "status"}
            put["ExpressionAttributeValues"] = {":previous": value(str(previous.status))}
        return put
