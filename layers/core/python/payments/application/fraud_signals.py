"""The fraud_signals subscriber's use case: Stripe Radar's news after authorization -> the payment's risk.

- `review.opened`, `review.closed`: Stripe's review of the charge -> `risk.review` (source stripe),
  PaymentReviewOpened / PaymentReviewClosed with Stripe's reason.
- `radar.early_fraud_warning.created`, `.updated`: the issuer reports likely fraud -> `risk.fraud_warning`,
  FraudWarningReceived; and when the risk rules say `refund` (the default) and the warning is actionable,
  everything still refundable of a captured payment not disputed is refunded through RefundPayment (a
  refund before a dispute spares the dispute's fee). Its refund id derives from the warning, so duplicates
  and retries find the refund the first delivery reserved: one refund per warning, whatever happens.

Stripe's word, not the event's. Every object is read again from Stripe before anything is recorded (a
warning can move money): an event put on the bus by anyone but the webhook can name at most an object
Stripe does not have (ignored, counted) or one it does, whose truth is Stripe's. The payment comes from
Stripe's object (its PaymentIntent's metadata), never from the event. A payment we do not hold yet
raises, so EventBridge retries the event; so does a warning on a payment whose capture our books do not
hold yet: its refund is decided on a later delivery.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from payments.application.clock import now
from payments.application.commit import Store
from payments.application.ports import RadarSignals, RefundGateway, RefundRepository, RiskPolicy
from payments.application.refund_payment import RefundPayment, refund_payment
from payments.application.stripe_event import StripeEvent
from payments.domain.errors import Conflict, NotFound
from payments.domain.fraud_signals import (
    WARNING_REFUNDER,
    StripeFraudWarning,
    WarningAction,
    record_fraud_warning,
    record_stripe_review,
    warning_action,
    warning_refund_id,
)
from payments.domain.ids import request_fingerprint
from payments.domain.payment import Change, Payment
from payments.domain.refund import Refund, RefundNotApplicable

logger = logging.getLogger(__name__)

REVIEW_EVENTS = "review."
WARNING_EVENTS = "radar.early_fraud_warning."


class FraudSignalOutcome(StrEnum):
    """What a Radar event did; the value is the metric counted."""

    REVIEW_RECORDED = "StripeReviewsRecorded"
    WARNING_REFUNDED = "FraudWarningRefunds"
    WARNING_RECORDED = "FraudWarningsRecorded"  # recorded only: notify, not actionable, nothing to refund
    UNCHANGED = "FraudSignalsUnchanged"  # a repeat, a late arrival, or news we already had
    NOT_OURS = "StripeEventsNotOurs"
    UNKNOWN = "FraudSignalsUnknownAtStripe"  # Stripe has no such object: a forged or mistaken event


@dataclass(frozen=True)
class FraudSignals:
    """Applies one Radar event (reviews, early fraud warnings) with the ports it needs."""

    store: Store
    refunds: RefundRepository
    gateway: RefundGateway
    radar: RadarSignals
    policy: RiskPolicy

    def apply(self, event: StripeEvent) -> FraudSignalOutcome:
        object_id = str(event.data.object.get("id") or "")  # a slimmed event keeps it
        if event.type.startswith(REVIEW_EVENTS):
            return self._review(event, object_id)
        if event.type.startswith(WARNING_EVENTS):
            return self._warning(event, object_id)
        logger.warning("%s %s is not a Radar event; ignored", event.type, event.id)
        return FraudSignalOutcome.UNCHANGED

    def _review(self, event: StripeEvent, review_id: str) -> FraudSignalOutcome:
        review = self.radar.review(review_id) if review_id else None
        if review is None:
            logger.warning("%s %s: Stripe has no review %r; ignored", event.type, event.id, review_id)
            return FraudSignalOutcome.UNKNOWN
        if review.payment_id is None:
            logger.info("%s %s: a review of a charge made elsewhere; ignored", event.type, event.id)
            return FraudSignalOutcome.NOT_OURS
        # A payment we do not hold (yet) raises NotFound in update: EventBridge retries, then the DLQ.
        change = self.store.committed_change(
            review.payment_id, lambda payment: record_stripe_review(payment, review, now())
        )
        return FraudSignalOutcome.REVIEW_RECORDED if change else FraudSignalOutcome.UNCHANGED

    def _warning(self, event: StripeEvent, warning_id: str) -> FraudSignalOutcome:
        from payments.observability import count

        warning = self.radar.early_fraud_warning(warning_id) if warning_id else None
        if warning is None:
            logger.warning(
                "%s %s: Stripe has no early fraud warning %r; ignored", event.type, event.id, warning_id
            )
            return FraudSignalOutcome.UNKNOWN
        if warning.payment_id is None:
            logger.info("%s %s: a warning on a charge made elsewhere; ignored", event.type, event.id)
            return FraudSignalOutcome.NOT_OURS
        payment_id = warning.payment_id
        payment, refund = self.refunds.with_payment(payment_id, warning_refund_id(payment_id, warning.id))
        if payment is None:
            raise NotFound(f"payment {payment_id} is not known (yet); the event will be retried")
        with self.store.batch() as batch:  # FraudWarningReceived and the refund's events in one PutEvents
            payment, recorded = _record(batch, payment, warning)
            if recorded:
                count("FraudWarnings")
                logger.warning(
                    "early fraud warning %s (%s) on payment %s", warning.id, warning.fraud_type, payment.id
                )
            if refund is None:
                action = warning_action(payment, warning, self.policy.rules().early_fraud_warning)
                if action is WarningAction.NOT_YET:
                    raise RefundNotApplicable(
                        f"payment {payment.id} is {payment.status}: the warning's refund waits for "
                        "its capture",
                        payment_id=payment.id,
                    )
                if action is not WarningAction.REFUND:
                    logger.info("early fraud warning %s on payment %s: %s", warning.id, payment.id, action)
                    return FraudSignalOutcome.WARNING_RECORDED if recorded else FraudSignalOutcome.UNCHANGED
            elif not refund.awaiting_stripe:
                return FraudSignalOutcome.WARNING_RECORDED if recorded else FraudSignalOutcome.UNCHANGED
            return self._refund(batch, payment, refund, warning)

    def _refund(
        self, store: Store, payment: Payment, refund: Refund | None, warning: StripeFraudWarning
    ) -> FraudSignalOutcome:
        """Reserve and refund what is left (or resume the refund an earlier delivery reserved)."""
        command = RefundPayment(
            payment_id=payment.id,
            requested_by=WARNING_REFUNDER,
            idempotency_key=warning.id,
            request_hash=request_fingerprint({"early_fraud_warning": warning.id}),
            reason="fraudulent",
            metadata={"early_fraud_warning": warning.id},
        )
        try:
            issued = refund_payment(command, store, self.refunds, self.gateway, known=(payment, refund))
        except Conflict as refused:
            # Decided on a fresh read (a concurrent refund or dispute), or refused by Stripe (the charge
            # was disputed meanwhile; the reservation is released): the warning stays recorded.
            logger.warning(
                "early fraud warning %s: no refund of %s (%s)", warning.id, payment.id, refused.code
            )
            return FraudSignalOutcome.WARNING_RECORDED
        logger.warning(
            "early fraud warning %s: refund %s of %s is %s", warning.id, issued.id, payment.id, issued.status
        )
        return FraudSignalOutcome.WARNING_REFUNDED


def _record(store: Store, payment: Payment, warning: StripeFraudWarning) -> tuple[Payment, bool]:
    """The payment with the warning recorded, and whether this delivery recorded it."""
    decided: list[Change | None] = [None]

    def decide(current: Payment) -> Change | None:
        decided[0] = record_fraud_warning(current, warning, now())
        return decided[0]

    return store.update(payment.id, decide, known=payment), decided[0] is not None
