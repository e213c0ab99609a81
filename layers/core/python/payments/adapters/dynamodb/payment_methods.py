"""The payment methods table: CUSTOMER#<id> / PM#<pm_id> (card details, never a PAN),
CUSTOMER#<id> / STRIPE (the Stripe customer), and PM#<pm_id> / OWNER (who saved it)."""

from __future__ import annotations

from typing import Any

from payments.adapters.aws import client
from payments.adapters.dynamodb.codec import from_item
from payments.application.ports import MethodOwner


class DynamoPaymentMethodOwners:
    def __init__(self, table: str) -> None:
        self.table = table

    def owner_of(self, payment_method_id: str) -> MethodOwner | None:
        db: Any = client("dynamodb")
        response = db.get_item(
            TableName=self.table,
            Key={"pk": {"S": f"PM#{payment_method_id}"}, "sk": {"S": "OWNER"}},
            ConsistentRead=True,
        )
        if "Item" not in response:
            return None
        item = from_item(response["Item"])
        return MethodOwner(customer_id=item["customer_id"], stripe_customer_id=item["stripe_customer_id"])
