"""Radar's outcome, Stripe's reviews and early fraud warnings on a payment (pure rules): each recorded
once, forward only, in any order; and what a warning makes us do."""

from __future__ import annotations

import dataclasses

import pytest

from payments.adapters.stripe.gateway import intent_snapshot, radar_outcome
from payments.domain.fraud_signals import (
    StripeFraudWarning,
    StripeReview,
    WarningAction,
    record_fraud_warning,
    record_stripe_review,
    warning_action,
    warning_refund_id,
)
from payments.domain.payment import Dispute, IntentSnapshot, Payment, PaymentStatus
from payments.domain.refund import refund_id_for
from payments.domain.risk import PaymentRisk, RadarOutcome, Review
from tests.support.payments import AT, a_payment

S = PaymentStatus
LATER = "2026-11-26T12:05:00.000Z"
ELEVATED = RadarOutcome(
    "elevated", 70, "review_if_elevated_risk", "manual_review", "in review", "approved_by_network"
)
BLOCKED = RadarOutcome("highest", 91, "block_if_high_risk", "blocked", "too risky", "not_sent_to_network")


def payment(status: PaymentStatus = S.PENDING, **changes: object) -> Payment:
    return a_payment(**{"amount": 1000, "status": status, **changes})


def paid(**changes: object) -> Payment:
    defaults: dict[str, object] = {
        "stripe_payment_intent_id": "pi_1",
        "stripe_charge_id": "ch_1",
        "amount_captured": 1000,
    }
    return payment(**{"status": S.SUCCEEDED, **defaults, **changes})  # type: ignore[arg-type]


# --------------------------------------------------------------------------- Radar's outcome


def test_the_outcome_rides_on_the_status_event_it_came_with() -> None:
    change = payment().apply_intent(
        IntentSnapshot("pi_1", "succeeded", amount_received=1000, charge_id="ch_1", radar=ELEVATED), AT
    )

    assert change is not None
    assert change.event.event_type == "PaymentProcessed"
    assert change.payment.risk == PaymentRisk(radar=ELEVATED)
    assert change.event.data["risk"]["radar"]["risk_level"] == "elevated"
    assert change.event.data["risk"]["radar"]["rule"] == "review_if_elevated_risk"


def test_an_outcome_arriving_after_the_status_is_recorded_once() -> None:
    later = IntentSnapshot("pi_1", "succeeded", amount_received=1000, charge_id="ch_1", radar=ELEVATED)
    current = paid()

    first = current.record_radar(later, AT)

    assert first is not None
    assert (first.event.event_type, first.payment.risk) == (
        "RadarOutcomeRecorded",
        PaymentRisk(radar=ELEVATED),
    )
    assert first.payment.record_radar(later, LATER) is None  # the same outcome again: nothing, no event
    assert first.payment.apply_intent(later, LATER) is None


def test_another_charges_outcome_is_not_the_payments() -> None:
    earlier_attempt = IntentSnapshot("pi_1", "succeeded", charge_id="ch_earlier", radar=BLOCKED)
    other_intent = IntentSnapshot("pi_2", "succeeded", charge_id="ch_1", radar=BLOCKED)

    assert paid().record_radar(earlier_attempt, AT) is None
    assert paid().record_radar(other_intent, AT) is None
    assert paid().record_radar(IntentSnapshot("pi_1", "succeeded", charge_id="ch_1"), AT) is None


def test_the_outcome_keeps_what_our_checks_decided() -> None:
    ours = PaymentRisk(review=Review("rules", "approved", AT, closed_at=AT, closed_by="admin-1"))
    change = paid(risk=ours).record_radar(
        IntentSnapshot("pi_1", "succeeded", charge_id="ch_1", radar=ELEVATED), AT
    )

    assert change is not None
    assert change.payment.risk == dataclasses.replace(ours, radar=ELEVATED)


def test_stripes_outcome_is_read_from_an_expanded_charge_only() -> None:
    charge = {
        "id": "ch_1",
        "outcome": {
            "network_status": "not_sent_to_network",
            "reason": "highest_risk_level",
            "risk_level": "highest",
            "risk_score": 91,
            "rule": {"id": "block_if_high_risk", "action": "block", "predicate": ":risk_level: = 'highest'"},
            "seller_message": "too risky",
            "type": "blocked",
        },
    }

    assert radar_outcome(charge) == BLOCKED
    assert radar_outcome("ch_1") is None
    assert radar_outcome({"id": "ch_1", "outcome": None}) is None
    intent = {"id": "pi_1", "status": "requires_payment_method", "latest_charge": charge, "created": 1}
    assert intent_snapshot(intent).radar == BLOCKED
    assert intent_snapshot({**intent, "latest_charge": "ch_1"}).radar is None


# --------------------------------------------------------------------------- Stripe's reviews


def review(open_: bool = True, reason: str = "rule", **changes: object) -> StripeReview:
    base = StripeReview(
        "prv_1", open_, reason, created=1795694400, payment_intent_id="pi_1", payment_id="pay_1"
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_a_review_opens_then_closes() -> None:
    opened = record_stripe_review(paid(), review(), AT)
    assert opened is not None
    assert opened.event.event_type == "PaymentReviewOpened"
    assert opened.payment.risk is not None
    assert opened.payment.risk.review == Review(
        "stripe", "open", "2026-11-26T12:00:00.000Z", reason="rule", stripe_review_id="prv_1"
    )

    closed = record_stripe_review(opened.payment, review(False, "approved"), LATER)
    assert closed is not None
    assert closed.event.event_type == "PaymentReviewClosed"
    assert closed.payment.risk is not None
    assert closed.payment.risk.review == Review(
        "stripe", "approved", "2026-11-26T12:00:00.000Z", "approved", LATER, "stripe", "prv_1"
    )
    assert closed.event.data["risk"]["review"]["stripe_review_id"] == "prv_1"


@pytest.mark.parametrize(
    ("reason", "status"),
    [
        ("approved", "approved"),
        ("acknowledged", "approved"),
        ("refunded", "rejected"),
        ("refunded_as_fraud", "rejected"),
        ("disputed", "rejected"),
        ("canceled", "rejected"),
        ("redacted", "rejected"),
        ("payment_never_settled", "expired"),
    ],
)
def test_stripes_closed_reasons_in_our_terms(reason: str, status: str) -> None:
    change = record_stripe_review(paid(), review(False, reason), AT)
    assert change is not None
    assert change.payment.risk is not None
    assert change.payment.risk.review is not None
    assert (change.payment.risk.review.status, change.payment.risk.review.reason) == (status, reason)


def test_late_or_repeated_review_news_changes_nothing() -> None:
    opened = record_stripe_review(paid(), review(), AT)
    assert opened is not None
    closed = record_stripe_review(opened.payment, review(False, "refunded"), AT)
    assert closed is not None

    assert record_stripe_review(opened.payment, review(), LATER) is None  # opened again
    assert record_stripe_review(closed.payment, review(), LATER) is None  # the opening, late
    assert record_stripe_review(closed.payment, review(False, "approved"), LATER) is None  # closed again


def test_our_open_hold_is_never_replaced_by_stripes_review() -> None:
    held = paid(status=S.REQUIRES_CAPTURE, risk=PaymentRisk(review=Review("rules", "open", AT)))
    decided = paid(
        risk=PaymentRisk(review=Review("rules", "approved", AT, closed_at=AT, closed_by="admin-1"))
    )

    assert record_stripe_review(held, review(), AT) is None
    replaced = record_stripe_review(decided, review(), AT)
    assert replaced is not None
    assert replaced.payment.risk is not None
    assert replaced.payment.risk.review is not None
    assert replaced.payment.risk.review.source == "stripe"


def test_a_review_of_another_intent_is_not_the_payments() -> None:
    assert record_stripe_review(paid(), review(payment_intent_id="pi_stray"), AT) is None
    # Before our books know the intent (the review came first), the review is recorded.
    assert record_stripe_review(payment(), review(payment_intent_id="pi_1"), AT) is not None


# --------------------------------------------------------------------------- early fraud warnings


def warning(actionable: bool = True, **changes: object) -> StripeFraudWarning:
    base = StripeFraudWarning(
        "issfr_1",
        "made_with_stolen_card",
        actionable,
        charge_id="ch_1",
        payment_intent_id="pi_1",
        payment_id="pay_1",
        intent_status="succeeded",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_a_warning_is_recorded_once() -> None:
    first = record_fraud_warning(paid(), warning(), AT)

    assert first is not None
    assert first.event.event_type == "FraudWarningReceived"
    assert first.event.data["risk"]["fraud_warning"] == {
        "id": "issfr_1",
        "fraud_type": "made_with_stolen_card",
        "actionable": True,
        "received_at": AT,
    }
    assert record_fraud_warning(first.payment, warning(actionable=False), LATER) is None  # its update
    another = record_fraud_warning(first.payment, warning(id="issfr_2"), LATER)
    assert another is not None
    assert another.payment.risk is not None
    assert another.payment.risk.fraud_warning is not None
    assert another.payment.risk.fraud_warning.id == "issfr_2"


@pytest.mark.parametrize(
    ("current", "news", "policy", "action"),
    [
        (paid(), warning(), "refund", WarningAction.REFUND),
        (paid(status=S.PARTIALLY_REFUNDED, amount_refunded=300), warning(), "refund", WarningAction.REFUND),
        (paid(), warning(), "notify", WarningAction.NOTIFY),
        (paid(), warning(actionable=False), "refund", WarningAction.NOT_ACTIONABLE),
        (
            paid(dispute=Dispute("dp_1", "needs_response", "fraudulent", 1000)),
            warning(),
            "refund",
            WarningAction.DISPUTED,
        ),
        (paid(status=S.REFUNDED, amount_refunded=1000), warning(), "refund", WarningAction.NOTHING_LEFT),
        (paid(amount_refund_pending=1000), warning(), "refund", WarningAction.NOTHING_LEFT),
        (payment(S.PENDING), warning(), "refund", WarningAction.NOT_YET),
        (payment(S.REQUIRES_CAPTURE), warning(), "refund", WarningAction.NOT_YET),
        (
            payment(S.REQUIRES_CAPTURE),
            warning(intent_status="requires_capture"),
            "refund",
            WarningAction.NOT_CAPTURED,
        ),
        (payment(S.FAILED), warning(intent_status="canceled"), "refund", WarningAction.NO_MONEY),
        (payment(S.CANCELED), warning(intent_status="canceled"), "refund", WarningAction.NO_MONEY),
    ],
)
def test_what_a_warning_makes_us_do(
    current: Payment, news: StripeFraudWarning, policy: str, action: WarningAction
) -> None:
    assert warning_action(current, news, policy) is action  # type: ignore[arg-type]


def test_the_warnings_refund_id_derives_from_the_warning() -> None:
    assert warning_refund_id("pay_1", "issfr_1") == warning_refund_id("pay_1", "issfr_1")
    assert warning_refund_id("pay_1", "issfr_1") != warning_refund_id("pay_1", "issfr_2")
    assert warning_refund_id("pay_1", "issfr_1") == refund_id_for("pay_1", "early_fraud_warning", "issfr_1")
