"""What a payment request reads before it decides anything, in one TransactGetItems over two tables:
the payment's STATE (an earlier attempt with this id: its decision is not made again), the method's
OWNER and the caller's own PM# record of it (a saved card: its fingerprint and country for the checks).
"""

from __future__ import annotations

from payments.adapters.dynamodb.codec import from_item
from payments.adapters.dynamodb.payment_methods import _method_key, _owner, _owner_key, method_from_item
from payments.adapters.dynamodb.payments import payment_from_item, payment_key
from payments.adapters.dynamodb.reads import get_across
from payments.application.ports import BeforePayment


class DynamoPaymentStart:
    def __init__(self, payments_table: str, methods_table: str) -> None:
        self.payments_table = payments_table
        self.methods_table = methods_table

    def before_payment(self, payment_id: str, customer_id: str, payment_method_id: str) -> BeforePayment:
        earlier, owner, saved = get_across(
            [
                (self.payments_table, payment_key(payment_id)),
                (self.methods_table, _owner_key(payment_method_id)),
                (self.methods_table, _method_key(customer_id, payment_method_id)),
            ]
        )
        return BeforePayment(
            earlier=payment_from_item(earlier) if earlier else None,
            owner=_owner(from_item(owner)) if owner else None,
            saved=method_from_item(saved) if saved else None,
        )
