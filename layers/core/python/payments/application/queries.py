"""Read side: one payment (with refunds), a customer's payments, a payment's history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from payments.application.ports import Page, PaymentReader
from payments.domain.errors import FieldError, NotFound, ValidationFailed
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


def list_payments(
    reader: PaymentReader, query: ListQuery, start: dict[str, Any] | None, *, viewer: str, admin: bool
) -> Page[Payment]:
    """Customers see their own payments; admins any customer's, or all payments in one status."""
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
        raise ValidationFailed([FieldError("customer_id", "admins list by customer_id or by status")])
    return reader.list_by_status(str(query.status), query.limit, start)
