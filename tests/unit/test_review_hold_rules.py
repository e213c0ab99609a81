"""The review hold and the block in the payment's state machine (domain/payment.py, domain/risk.py):
the hold opens with Stripe's authorization, once; it is decided once; what the holds index keeps; the
risk as stored and as the customer sees it."""

from __future__ import annotations

import dataclasses

from payments.domain.payment import RELEASING_EVENTS, IntentSnapshot, Payment, PaymentStatus
from payments.domain.risk import (
    CardFacts,
    PaymentRisk,
    Review,
    RiskDecision,
    RiskFacts,
    RiskReason,
)
from tests.support.payments import AT, captured_payment

LATER = "2026-11-26T13:00:00.000Z"
ABOVE = RiskReason("review_rules", "review_above_amount", "10000 usd is above 5000", "review")
FACTS = RiskFacts("cus_a", "203.0.113.9", CardFacts("fpCARDaaaaaaaaa1", "US", "424242"), "2026-11-26")


def pending(decision: str = "review") -> Payment:
    return captured_payment(
        status=PaymentStatus.PENDING,
        capture_method="manual",
        amount_captured=0,
        version=1,
        risk=PaymentRisk(decision=RiskDecision(decision, (ABOVE,), AT, FACTS)),  # type: ignore[arg-type]
    )


AUTHORIZED = IntentSnapshot("pi_1", "requires_capture", amount_capturable=10_000)


def test_the_hold_opens_with_the_authorization_once():
    change = pending().apply_intent(AUTHORIZED, LATER)
    assert change is not None
    assert change.event.event_type == "PaymentHeldForReview"
    held = change.payment
    assert held.status is PaymentStatus.REQUIRES_CAPTURE
    assert held.risk is not None
    assert held.risk.review == Review("rules", "open", LATER, reason="review_above_amount")
    assert held.hold_opened_at == LATER
    assert change.event.data["risk"]["review"]["status"] == "open"
    assert held.apply_intent(AUTHORIZED, LATER) is None  # the same news again


def test_an_allowed_manual_payment_is_authorized_not_held():
    change = pending("allow").apply_intent(AUTHORIZED, LATER)
    assert change is not None
    assert change.event.event_type == "PaymentAuthorized"
    assert change.payment.hold_opened_at is None


def test_our_hold_takes_the_place_of_a_stripe_review_recorded_first():
    payment = pending()
    assert payment.risk is not None
    stripes = dataclasses.replace(payment.risk, review=Review("stripe", "open", AT, reason="rule"))
    change = dataclasses.replace(payment, risk=stripes).apply_intent(AUTHORIZED, LATER)
    assert change is not None
    assert change.event.event_type == "PaymentHeldForReview"
    assert change.payment.risk is not None
    assert change.payment.risk.review is not None
    assert change.payment.risk.review.source == "rules"


def test_a_hold_is_decided_once_and_stays_on_the_index_until_it_is_released():
    held = pending().apply_intent(AUTHORIZED, LATER)
    assert held is not None
    rejected = held.payment.close_hold("rejected", "admin-1", LATER)
    assert rejected is not None
    assert rejected.event.event_type == "PaymentReviewRejected"
    assert rejected.payment.hold_opened_at == LATER  # still authorized: to be canceled
    assert rejected.payment.close_hold("approved", "admin-2", LATER) is None
    assert rejected.payment.close_hold("expired", "expiry", LATER) is None
    canceled = rejected.payment.apply_intent(IntentSnapshot("pi_1", "canceled"), LATER)
    assert canceled is not None
    assert canceled.event.event_type == "PaymentCanceled"
    assert canceled.payment.hold_opened_at is None

    approved = held.payment.close_hold("approved", "admin-1", LATER)
    assert approved is not None
    assert approved.event.event_type == "PaymentReviewApproved"
    assert approved.payment.hold_opened_at is None  # the capture goes on, nothing to expire
    assert approved.payment.risk is not None
    review = approved.payment.risk.review
    assert review is not None
    assert (review.status, review.closed_by, review.closed_at) == ("approved", "admin-1", LATER)


def test_only_a_pending_payment_can_be_blocked_and_the_block_frees_the_order():
    change = pending("block").block("The payment cannot be accepted", LATER)
    assert change is not None
    assert change.event.event_type == "PaymentBlocked"
    assert change.payment.status is PaymentStatus.FAILED
    assert change.payment.failure is not None
    assert change.payment.failure.code == "payment_blocked"
    assert change.payment.block("again", LATER) is None
    assert "PaymentBlocked" in RELEASING_EVENTS


def test_the_risk_is_stored_whole_and_shown_to_the_customer_in_their_terms():
    risk = PaymentRisk(
        decision=RiskDecision("review", (ABOVE,), AT, FACTS),
        review=Review(
            "rules", "approved", AT, reason="review_above_amount", closed_at=LATER, closed_by="admin-1"
        ),
    )
    assert PaymentRisk.from_dict(risk.to_dict()) == risk
    shown = risk.for_customer()
    assert shown == {
        "decision": {
            "decision": "review",
            "reasons": [
                {
                    "code": "under_review",
                    "message": "The payment is authorized and being reviewed before it is captured",
                }
            ],
            "decided_at": AT,
        },
        "review": {"status": "approved", "opened_at": AT, "closed_at": LATER},
    }
    assert "admin-1" not in str(shown)
    assert "203.0.113.9" not in str(shown)
