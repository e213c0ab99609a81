"""Payments for domain-level tests: pending (version 1) or captured (version 2), 10,000 minor units of usd."""

from __future__ import annotations

import dataclasses
from typing import Any

from payments.domain.payment import Payment, PaymentStatus

AT = "2026-11-26T12:00:00.000Z"


def a_payment(**changes: Any) -> Payment:
    """A pending payment of 10,000 minor units of usd (version 1), with `changes`."""
    base = Payment(
        id="pay_1",
        order_id="order-1",
        customer_id="cus_a",
        amount=10_000,
        currency="usd",
        payment_method_id="pm_card_visa",
        capture_method="automatic",
        created_at=AT,
        updated_at=AT,
        status=PaymentStatus.PENDING,
        version=1,
    )
    return dataclasses.replace(base, **changes)


def captured_payment(**changes: Any) -> Payment:
    return a_payment(
        **{"status": PaymentStatus.SUCCEEDED, "amount_captured": 10_000, "version": 2, **changes}
    )
