"""Capture and cancel: Stripe first (keyed by our id and the operation), then record its answer."""

from __future__ import annotations

from payments.application.clock import now
from payments.application.commit import Store
from payments.application.payment_intents import record_intent, release_if_never_seen
from payments.application.ports import PaymentGateway
from payments.domain.errors import IntentStateChanged, OutcomeUnknown
from payments.domain.payment import Payment, PaymentStatus


def capture_payment(payment: Payment, store: Store, gateway: PaymentGateway) -> Payment:
    payment.ensure_capturable()
    try:
        intent = gateway.capture_intent(payment)
    except IntentStateChanged:
        # Captured (or canceled) at Stripe already: a retry after the answer was lost and Stripe forgot
        # the key. Record what the intent is now; a capture that happened is the answer.
        payment = record_intent(store, payment, gateway.retrieve_intent(_intent_of(payment)), gateway)
        if payment.status is PaymentStatus.SUCCEEDED:
            return payment
        payment.ensure_capturable()
        raise
    return store.update(payment.id, lambda current: current.apply_intent(intent, now()), known=payment)


def cancel_payment(payment: Payment, store: Store, gateway: PaymentGateway) -> Payment:
    if payment.status is PaymentStatus.PENDING:
        # It may or may not have reached Stripe: ask Stripe first, release it if Stripe never saw it.
        settled = release_if_never_seen(store, payment, gateway)
        if settled is None:
            raise OutcomeUnknown(
                "the payment's first attempt may still be running at the provider; retry later",
                payment_id=payment.id,
            )
        if settled.status is PaymentStatus.CANCELED:
            return settled
        payment = settled
    payment.ensure_cancelable()
    try:
        intent = gateway.cancel_intent(payment)
    except IntentStateChanged:
        # The intent moved on at Stripe (captured, confirmed again): record that, then say why not.
        payment = record_intent(store, payment, gateway.retrieve_intent(_intent_of(payment)), gateway)
        payment.ensure_cancelable()
        raise
    return store.update(payment.id, lambda current: current.apply_intent(intent, now()), known=payment)


def _intent_of(payment: Payment) -> str:
    assert payment.stripe_payment_intent_id is not None  # cancelable payments have reached Stripe
    return payment.stripe_payment_intent_id
