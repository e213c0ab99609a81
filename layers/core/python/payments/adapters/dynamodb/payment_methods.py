"""The payment methods table:

- CUSTOMER#<id> / PM#<pm_id>: a saved method (type, brand, last4, exp, funding, country, fingerprint;
  never a card number);
- CUSTOMER#<id> / CARD#<fingerprint>#<yyyy-mm>: which method holds that card and expiry (one per
  customer, so saving the same card twice cannot make two);
- CUSTOMER#<id> / STRIPE: the customer's Stripe customer id, created once;
- PM#<pm_id> / OWNER: who saved the method (ProcessPayment refuses anyone else's).

The method, its card claim and its owner are written and removed together.
"""

from __future__ import annotations

from typing import Any

from payments.adapters.dynamodb.codec import from_item, to_item
from payments.adapters.dynamodb.reads import get_together
from payments.adapters.dynamodb.table import TableAdapter
from payments.application.ports import BeforeSave, MethodOwner, Page
from payments.domain.card import Card
from payments.domain.errors import NotFound
from payments.domain.payment_method import MethodTaken, SameCardSaved, SavedPaymentMethod


def _customer_pk(customer_id: str) -> dict[str, str]:
    return {"S": f"CUSTOMER#{customer_id}"}


def _method_key(customer_id: str, payment_method_id: str) -> dict[str, Any]:
    return {"pk": _customer_pk(customer_id), "sk": {"S": f"PM#{payment_method_id}"}}


def _owner_key(payment_method_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"PM#{payment_method_id}"}, "sk": {"S": "OWNER"}}


def _card_key(customer_id: str, card_key: str) -> dict[str, Any]:
    return {"pk": _customer_pk(customer_id), "sk": {"S": f"CARD#{card_key}"}}


def _stripe_key(customer_id: str) -> dict[str, Any]:
    return {"pk": _customer_pk(customer_id), "sk": {"S": "STRIPE"}}


def _owner(item: dict[str, Any]) -> MethodOwner:
    return MethodOwner(customer_id=item["customer_id"], stripe_customer_id=item["stripe_customer_id"])


def method_to_item(method: SavedPaymentMethod) -> dict[str, Any]:
    card = method.card or Card()
    return to_item(
        {
            "pk": f"CUSTOMER#{method.customer_id}",
            "sk": f"PM#{method.id}",
            "id": method.id,
            "customer_id": method.customer_id,
            "stripe_customer_id": method.stripe_customer_id,
            "type": method.type,
            "created_at": method.created_at,
            "has_card": method.card is not None,
            **card.model_dump(),
            "off_session": method.off_session,
            "setup_intent_id": method.setup_intent_id,
        }
    )


def method_from_item(item: dict[str, Any]) -> SavedPaymentMethod:
    values = from_item(item)
    card = Card(**{name: values.get(name) for name in Card.model_fields}) if values.get("has_card") else None
    return SavedPaymentMethod(
        id=values["id"],
        customer_id=values["customer_id"],
        stripe_customer_id=values["stripe_customer_id"],
        type=values["type"],
        created_at=values["created_at"],
        card=card,
        off_session=bool(values.get("off_session")),
        setup_intent_id=values.get("setup_intent_id"),
    )


class DynamoPaymentMethodOwners(TableAdapter):
    def owner_of(self, payment_method_id: str) -> MethodOwner | None:
        item = self._get(_owner_key(payment_method_id))
        return _owner(item) if item else None

    def _get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        response = self._db.get_item(TableName=self.table, Key=key, ConsistentRead=True)
        return from_item(response["Item"]) if "Item" in response else None


class DynamoPaymentMethods(DynamoPaymentMethodOwners):
    def before_save(self, customer_id: str, payment_method_id: str, card_key: str | None) -> BeforeSave:
        keys = [
            _owner_key(payment_method_id),
            _stripe_key(customer_id),
            _method_key(customer_id, payment_method_id),
        ]
        if card_key:
            keys.append(_card_key(customer_id, card_key))
        owner, stripe, method, *card = get_together(self.table, keys)
        claim = card[0] if card else None
        return BeforeSave(
            owner=_owner(from_item(owner)) if owner else None,
            stripe_customer=from_item(stripe)["stripe_customer_id"] if stripe else None,
            method=method_from_item(method) if method else None,
            card_holder=from_item(claim)["payment_method_id"] if claim else None,
        )

    def stripe_customer(self, customer_id: str) -> str | None:
        item = self._get(_stripe_key(customer_id))
        return str(item["stripe_customer_id"]) if item else None

    def remember_stripe_customer(self, customer_id: str, stripe_customer_id: str, at: str) -> str:
        try:
            self._db.put_item(
                TableName=self.table,
                Item={
                    **_stripe_key(customer_id),
                    **to_item({"stripe_customer_id": stripe_customer_id, "created_at": at}),
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            remembered = self.stripe_customer(customer_id)
            assert remembered is not None  # the condition failed because it exists
            return remembered
        return stripe_customer_id

    def get(self, customer_id: str, payment_method_id: str) -> SavedPaymentMethod | None:
        response = self._db.get_item(
            TableName=self.table, Key=_method_key(customer_id, payment_method_id), ConsistentRead=True
        )
        return method_from_item(response["Item"]) if "Item" in response else None

    def find_card(self, customer_id: str, card_key: str) -> SavedPaymentMethod | None:
        claim = self._get(_card_key(customer_id, card_key))
        return self.get(customer_id, claim["payment_method_id"]) if claim else None

    def add(self, method: SavedPaymentMethod) -> None:
        operations: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": method_to_item(method),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Put": {
                    "TableName": self.table,
                    "Item": {
                        **_owner_key(method.id),
                        **to_item(
                            {
                                "customer_id": method.customer_id,
                                "stripe_customer_id": method.stripe_customer_id,
                            }
                        ),
                    },
                    "ConditionExpression": "attribute_not_exists(pk) OR customer_id = :customer",
                    "ExpressionAttributeValues": {":customer": {"S": method.customer_id}},
                }
            },
        ]
        key = method.card_key
        if key:
            operations.append(
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": {
                            **_card_key(method.customer_id, key),
                            **to_item({"payment_method_id": method.id}),
                        },
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
        try:
            self._db.transact_write_items(TransactItems=operations)
        except self._db.exceptions.TransactionCanceledException as error:
            failed = [
                r.get("Code") == "ConditionalCheckFailed" for r in error.response["CancellationReasons"]
            ]
            if failed[1]:
                raise MethodTaken(method.id) from None
            existing = self.get(method.customer_id, method.id) if failed[0] else None
            if existing is None and key and failed[2]:
                existing = self.find_card(method.customer_id, key)
            if existing is None:
                raise
            raise SameCardSaved(existing.id) from None

    def record_setup(self, method: SavedPaymentMethod) -> None:
        # The whole record again (it changes in nothing else), only while it is saved: deleted meanwhile,
        # it stays deleted.
        try:
            self._db.put_item(
                TableName=self.table,
                Item=method_to_item(method),
                ConditionExpression="attribute_exists(pk)",
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            raise NotFound(f"payment method {method.id} not found") from None

    def page(self, customer_id: str, limit: int, start: dict[str, Any] | None) -> Page[SavedPaymentMethod]:
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": _customer_pk(customer_id), ":prefix": {"S": "PM#"}},
            "Limit": limit,
        }
        if start:
            request["ExclusiveStartKey"] = to_item(start)
        response = self._db.query(**request)
        last = response.get("LastEvaluatedKey")
        return Page(
            [method_from_item(item) for item in response.get("Items", [])], from_item(last) if last else None
        )

    def remove(self, method: SavedPaymentMethod) -> None:
        operations: list[dict[str, Any]] = [
            {"Delete": {"TableName": self.table, "Key": _method_key(method.customer_id, method.id)}},
            {"Delete": {"TableName": self.table, "Key": _owner_key(method.id)}},
        ]
        key = method.card_key
        if key:
            operations.append(
                {
                    "Delete": {
                        "TableName": self.table,
                        "Key": _card_key(method.customer_id, key),
                        # Only our own claim: the card may have been saved again under another method.
                        "ConditionExpression": "attribute_not_exists(pk) OR payment_method_id = :id",
                        "ExpressionAttributeValues": {":id": {"S": method.id}},
                    }
                }
            )
        self._db.transact_write_items(TransactItems=operations)
