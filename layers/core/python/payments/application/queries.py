"""Read side: one payment (with refunds), a customer's payments, an order's payment, a payment's history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from payments.application.ports import Page, PaymentReader
from payments.domain.errors import FieldError, Forbidden, NotFound, ValidationFailed
from payments.domain.events import DomainEvent
from payments.domain.payment import Payment, PaymentStatus
from payments.domain.refund import Refund


@dataclass(frozen=True)
class PaymentView:
    payment: Payment
    refunds: list[Refund]


def _visible(payment: Payment | None, payment_id: str, viewer: str, admin: bool) -> Payment:
    # Another customer's payment is "not found", exactly like a missing one.
    if payment is None or (not admin and payment.customer_id != viewer):
        raise NotFound(f"payment {payment_id} not found", payment_id=payment_id)
    return payment


def get_payment(reader: PaymentReader, payment_id: str, *, viewer: str, admin: bool) -> PaymentView:
    payment, refunds = reader.get_with_refunds(payment_id)
    return PaymentView(_visible(payment, payment_id, viewer, admin), refunds)


def payment_for(reader: PaymentReader, payment_id: str, *, viewer: str, admin: bool) -> Payment:
    return _visible(reader.get(payment_id), payment_id, viewer, admin)


def payment_history(reader: PaymentReader, payment_id: str, *, viewer: str, admin: bool) -> list[DomainEvent]:
    events = reader.history(payment_id)
    # The first event carries the owner; no events means no payment.
    if not events or (not admin and events[0].customer_id != viewer):
        raise NotFound(f"payment {payment_id} not found", payment_id=payment_id)
    return events


@dataclass(frozen=True)
class ListQuery:
    customer_id: str | None
    status: PaymentStatus | None
    limit: int
    order_id: str | None = None


def list_payments(
    reader: PaymentReader, query: ListQuery, start: dict[str, Any] | None, *, viewer: str, admin: bool
) -> Page[Payment]:
    """Customers see their own payments; admins any customer's, all payments in one status, or an
    order's payment."""
    if query.order_id is not None:
        return _order_payment(reader, query.order_id, query, admin=admin)
    customer = query.customer_id
    if not admin:
        if customer not in (None, viewer):
            raise NotFound("customer not found", param="customer_id")
        customer = viewer
    if customer is not None:
        page = reader.list_by_customer(customer, query.limit, start)
        if query.status is not None:
            # Filtering after the key condition keeps one index; pages may come back short.
            return Page([p for p in page.items if p.status == query.status], page.next_key)
        return page
    if query.status is None:
        raise ValidationFailed([FieldError("customer_id", "admins list by customer_id, status or order_id")])
    return reader.list_by_status(str(query.status), query.limit, start)


def _order_payment(reader: PaymentReader, order_id: str, query: ListQuery, *, admin: bool) -> Page[Payment]:
    """The order's payment as its claim names it (PaymentReader.payment_of_order), as a one-page list:
    an order nobody paid is an empty list, not a missing resource."""
    if not admin:
        # Refused whatever the order: the answer says nothing of whose it is, or whether it exists.
        raise Forbidden("only payments admins find payments by order", param="order_id")
    # An exact lookup: a filter beside it could only hide the one payment it finds.
    others = {"customer_id": query.customer_id, "status": query.status}
    stated = [name for name, given in others.items() if given is not None]
    if stated:
        raise ValidationFailed([FieldError(name, "not allowed with order_id") for name in stated])
    payment = reader.payment_of_order(order_id)
    return Page([payment] if payment is not None else [], None)
