"""Capture and cancel: Stripe first (keyed by our id and the operation), then record its answer."""

from __future__ import annotations

from payments.application.clock import now
from payments.application.commit import Store
from payments.application.ports import PaymentGateway
from payments.domain.payment import Payment


def capture_payment(payment: Payment, store: Store, gateway: PaymentGateway) -> Payment:
    payment.ensure_capturable()
    intent = gateway.capture_intent(payment)
    return store.update(payment.id, lambda current: current.apply_intent(intent, now()), known=payment)


def cancel_payment(payment: Payment, store: Store, gateway: PaymentGateway) -> Payment:
    payment.ensure_cancelable()
    intent = gateway.cancel_intent(payment)
    return store.update(payment.id, lambda current: current.apply_intent(intent, now()), known=payment)
