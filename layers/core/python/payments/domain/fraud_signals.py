"""Stripe Radar's signals after authorization (pure): its reviews and the issuers' early fraud warnings,
recorded on the payment's risk, and what a warning makes us do.

Each is applied forward only: a review moves from open to closed, never back, and a warning is recorded
once per warning id. So duplicates, late arrivals and any order of Stripe's events end in one state, and
news we already hold changes nothing and announces nothing.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

from payments.domain.events import EventType
from payments.domain.payment import REFUNDABLE, Change, Payment, PaymentStatus
from payments.domain.refund import refund_id_for
from payments.domain.risk import FraudWarning, PaymentRisk, Review, ReviewStatus

WarningPolicy = Literal["refund", "notify"]
# Who asks for a warning's refund, in its refund id and `requested_by` (an admin's sub elsewhere).
WARNING_REFUNDER = "early_fraud_warning"

# Stripe's closed_reason in our terms; Stripe's own word stays in the review's `reason`.
_CLOSED_STATUS: dict[str, ReviewStatus] = {
    "approved": "approved",
    "acknowledged": "approved",
    "payment_never_settled": "expired",
}
_REJECTED: ReviewStatus = "rejected"  # refunded, refunded_as_fraud, disputed, canceled, redacted


@dataclass(frozen=True)
class StripeReview:
    """What we need of a Stripe Review, free of SDK types."""

    id: str
    open: bool
    reason: str  # why it is open (rule, manual) or closed (approved, refunded, disputed, ...)
    created: int  # epoch seconds
    payment_intent_id: str | None = None
    payment_id: str | None = None  # ours, from the PaymentIntent's metadata

    def as_review(self, at: str) -> Review:
        opened_at = datetime.fromtimestamp(self.created, UTC).isoformat(timespec="milliseconds")
        opened_at = opened_at.replace("+00:00", "Z")
        if self.open:
            return Review("stripe", "open", opened_at, reason=self.reason, stripe_review_id=self.id)
        return Review(
            "stripe",
            _CLOSED_STATUS.get(self.reason, _REJECTED),
            opened_at,
            reason=self.reason,
            closed_at=at,
            closed_by="stripe",
            stripe_review_id=self.id,
        )


@dataclass(frozen=True)
class StripeFraudWarning:
    """What we need of a Stripe EarlyFraudWarning, free of SDK types."""

    id: str
    fraud_type: str
    actionable: bool  # not disputed and not fully refunded, as Stripe has the charge now
    charge_id: str | None = None
    payment_intent_id: str | None = None
    payment_id: str | None = None  # ours, from the PaymentIntent's metadata
    intent_status: str | None = None  # the PaymentIntent's status at Stripe now


def record_stripe_review(payment: Payment, review: StripeReview, at: str) -> Change | None:
    """Record Stripe's review of the payment's charge; None when it tells nothing new.

    Our own hold (a review of source "rules") is never replaced while it is open: it decides the
    payment's capture. A review of another intent (a stray one) is not the payment's.
    """
    own = payment.stripe_payment_intent_id
    if own is not None and review.payment_intent_id not in (None, own):
        return None
    risk = payment.risk or PaymentRisk()
    current = risk.review
    if current is not None and current.source == "stripe" and current.stripe_review_id == review.id:
        if current.status != "open" or review.open:
            return None  # closed already, or open again: nothing new
    elif current is not None and current.status == "open":
        return None  # another review is open (our hold): it stays in charge
    event: EventType = "PaymentReviewOpened" if review.open else "PaymentReviewClosed"
    return payment.record(event, at, risk=dataclasses.replace(risk, review=review.as_review(at)))


def record_fraud_warning(payment: Payment, warning: StripeFraudWarning, at: str) -> Change | None:
    """Record an early fraud warning once (whichever of its events comes first); None if we hold it."""
    risk = payment.risk or PaymentRisk()
    if risk.fraud_warning is not None and risk.fraud_warning.id == warning.id:
        return None
    received = FraudWarning(warning.id, warning.fraud_type, warning.actionable, received_at=at)
    return payment.record("FraudWarningReceived", at, risk=dataclasses.replace(risk, fraud_warning=received))


class WarningAction(StrEnum):
    """What a warning makes us do to its payment; the value says why, in logs and tests."""

    REFUND = "refund"  # refund everything still refundable, before a dispute can cost its fee
    NOTIFY = "notify"  # the rules say only to record it for the back office
    NOT_ACTIONABLE = "not_actionable"  # Stripe: disputed or fully refunded already
    DISPUTED = "disputed"  # a dispute is open: refunding now would not spare its fee
    NOTHING_LEFT = "nothing_left"  # refunded in full (or all of it being refunded)
    NOT_CAPTURED = "not_captured"  # an authorization only, at Stripe too: the admin captures or cancels
    NO_MONEY = "no_money"  # Stripe took nothing (failed, canceled)
    NOT_YET = "not_yet"  # Stripe captured, our books do not hold it yet: decided on the next delivery


def warning_action(payment: Payment, warning: StripeFraudWarning, policy: WarningPolicy) -> WarningAction:
    """The policy: refund a captured payment not disputed yet when the warning is actionable and the
    rules say `refund`; otherwise only record the warning."""
    if policy == "notify":
        return WarningAction.NOTIFY
    if not warning.actionable:
        return WarningAction.NOT_ACTIONABLE
    if payment.dispute is not None:
        return WarningAction.DISPUTED
    if payment.status in REFUNDABLE:
        return WarningAction.REFUND if payment.refundable_amount > 0 else WarningAction.NOTHING_LEFT
    if payment.status is PaymentStatus.REFUNDED:
        return WarningAction.NOTHING_LEFT
    # Our books hold no capture: Stripe's intent says whether one is on its way to them.
    if warning.intent_status == "succeeded":
        return WarningAction.NOT_YET
    if warning.intent_status == "requires_capture":
        return WarningAction.NOT_CAPTURED
    return WarningAction.NO_MONEY


def warning_refund_id(payment_id: str, warning_id: str) -> str:
    """The refund a warning asks for derives from the warning (as an admin's from their Idempotency-Key):
    the warning's duplicates and retries find it."""
    return refund_id_for(payment_id, WARNING_REFUNDER, warning_id)
