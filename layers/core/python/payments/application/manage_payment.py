"""Capture and cancel: Stripe first (keyed by our id and the operation), then record its answer.

A payment our review hold keeps (docs/risk.md, Review holds) is decided here: an admin's capture
approves it (PaymentReviewApproved, then the capture), an admin's cancel rejects it
(PaymentReviewRejected, then the cancel), and `expire_hold` cancels it once the hold ran out
(PaymentReviewExpired). Each decision is one conditional write on the payment's version, so of an
approval and an expiry that race only the first counts; the other finds the review decided. A
customer cannot cancel a payment under review: the back office decides it, and the hold's expiry
releases it if no one does.
"""

from __future__ import annotations

from dataclasses import dataclass

from payments.application.clock import now
from payments.application.commit import Store
from payments.application.payment_intents import record_intent, release_if_never_seen
from payments.application.ports import CancelReason, PaymentGateway
from payments.application.process_payment import block, is_blocked
from payments.domain.errors import Conflict, IntentStateChanged, OutcomeUnknown
from payments.domain.payment import Payment, PaymentStatus
from payments.domain.risk import ReviewStatus
from payments.observability import count

EXPIRY = "expiry"  # who closed a hold that ran out
_DECIDED_METRIC: dict[ReviewStatus, str] = {
    "approved": "RiskApproved",
    "rejected": "RiskRejected",
    "expired": "RiskExpired",
}


@dataclass(frozen=True)
class Actor:
    """Who asks: their id (an admin's decides a review) and whether they are an admin."""

    sub: str
    admin: bool


def capture_payment(
    payment: Payment, store: Store, gateway: PaymentGateway, amount: int | None = None, *, by: Actor
) -> Payment:
    """Capture `amount` (None: the whole authorization); Stripe releases the rest to the customer. A
    held payment is approved first."""
    taken = payment.capture_amount(amount)
    _refuse_if_refused(payment)
    if payment.risk is not None and payment.risk.held:
        payment = _decide_hold(payment, store, "approved", by.sub)
        _refuse_if_refused(payment)  # the expiry (or another admin's rejection) came first
    try:
        intent = gateway.capture_intent(payment, taken)
    except IntentStateChanged:
        # Captured (or canceled, or expired) at Stripe already: a retry after the answer was lost and
        # Stripe forgot the key, or a capture of another amount. Record what the intent is now; a
        # capture of this very amount that happened is the answer, anything else is refused.
        payment = record_intent(store, payment, gateway.retrieve_intent(_intent_of(payment)), gateway)
        if payment.status is PaymentStatus.SUCCEEDED and payment.amount_captured == taken:
            return payment
        payment.ensure_capturable()
        raise
    return store.update(payment.id, lambda current: current.apply_intent(intent, now()), known=payment)


def cancel_payment(payment: Payment, store: Store, gateway: PaymentGateway, *, by: Actor) -> Payment:
    if payment.risk is not None and payment.risk.held:
        if not by.admin:
            raise Conflict(
                "payment_under_review",
                "the payment is under review: the back office decides it, and it is canceled if the "
                "review rejects it or is not decided in time",
                payment_id=payment.id,
            )
        payment = _decide_hold(payment, store, "rejected", by.sub)
    if payment.status is PaymentStatus.PENDING and is_blocked(payment):
        return block(payment, store)  # a blocked payment's retry never came: it never reached Stripe
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
    return _cancel_intent(payment, store, gateway)


def expire_hold(payment: Payment, store: Store, gateway: PaymentGateway) -> Payment:
    """A hold not decided in time: close its review as expired, then cancel the authorization (also
    when a rejection or an earlier expiry closed the review and its cancel did not happen)."""
    if payment.risk is not None and payment.risk.held:
        payment = _decide_hold(payment, store, "expired", EXPIRY)
    if payment.status is not PaymentStatus.REQUIRES_CAPTURE or payment.risk is None:
        return payment
    if not payment.risk.hold_refused:
        return payment  # approved meanwhile: the admin's capture goes on
    return _cancel_intent(payment, store, gateway)


def _cancel_intent(payment: Payment, store: Store, gateway: PaymentGateway) -> Payment:
    payment.ensure_cancelable()
    # Told to Stripe (Radar learns from `fraudulent`); decided by the payment alone, so every retry of
    # a cancel of one version sends the same request under its key.
    review = payment.risk.review if payment.risk and payment.risk.hold_refused else None
    reason: CancelReason = "requested_by_customer"
    if review is not None:
        reason = "fraudulent" if review.status == "rejected" else "abandoned"
    try:
        intent = gateway.cancel_intent(payment, reason=reason)
    except IntentStateChanged:
        # The intent moved on at Stripe (captured, confirmed again): record that, then say why not.
        payment = record_intent(store, payment, gateway.retrieve_intent(_intent_of(payment)), gateway)
        payment.ensure_cancelable()
        raise
    return store.update(payment.id, lambda current: current.apply_intent(intent, now()), known=payment)


def _decide_hold(payment: Payment, store: Store, outcome: ReviewStatus, by: str) -> Payment:
    """Close the open review as `outcome`, on the payment's version; a review decided meanwhile (by
    another admin or the expiry) is left as it was decided, and the payment returned as it is."""
    change = store.committed_change(
        payment.id, lambda current: current.close_hold(outcome, by, now()), known=payment
    )
    if change is not None:
        count(_DECIDED_METRIC[outcome])
        return change.payment
    return store.payments.get(payment.id) or payment


def _refuse_if_refused(payment: Payment) -> None:
    if payment.risk is not None and payment.risk.hold_refused:
        assert payment.risk.review is not None
        raise Conflict(
            "payment_review_closed",
            f"the payment's review is {payment.risk.review.status}: it is canceled, it cannot be captured",
            payment_id=payment.id,
        )


def _intent_of(payment: Payment) -> str:
    assert payment.stripe_payment_intent_id is not None  # cancelable payments have reached Stripe
    return payment.stripe_payment_intent_id
