"""Refund rules, pure: reservation checks, monotonic application of Stripe's news, derived status."""

from __future__ import annotations

import itertools

import pytest

from payments.domain.errors import Conflict, ValidationFailed
from payments.domain.payment import Payment, PaymentStatus
from payments.domain.refund import (
    MAX_REFUNDS,
    Refund,
    RefundChange,
    RefundNotApplicable,
    RefundRequest,
    RefundStatus,
    StripeRefund,
    record_stripe_refund,
    refund_id_for,
    reject_refund,
    request_refund,
)

S = PaymentStatus
AT = "2026-11-26T12:00:00.000Z"


def captured(
    amount: int = 1_000, currency: str = "usd", status: PaymentStatus = S.SUCCEEDED, **kw
) -> Payment:
    return Payment(
        id="pay_1",
        order_id="order-1",
        customer_id="cus_a",
        amount=amount,
        currency=currency,
        payment_method_id="pm_1",
        capture_method="automatic",
        created_at=AT,
        updated_at=AT,
        status=status,
        version=2,
        amount_captured=amount if status in (S.SUCCEEDED, S.PARTIALLY_REFUNDED, S.REFUNDED) else 0,
        **kw,
    )


def ask(amount: int | None, key: str = "k1") -> RefundRequest:
    return RefundRequest(
        refund_id=refund_id_for("pay_1", "admin", key),
        amount=amount,
        reason=None,
        metadata={},
        requested_by="admin",
        request_hash="h",
    )


def stripe(status: str, amount: int = 400, refund_id: str = "re_1") -> StripeRefund:
    return StripeRefund(id=refund_id, status=status, amount=amount, currency="usd")


def commit(payment: Payment, change: RefundChange | None) -> tuple[Payment, Refund | None]:
    if change is None:
        return payment, None
    return (change.change.payment if change.change else payment), change.refund


def test_reserve_holds_the_amount_and_records_the_request():
    change = request_refund(captured(), ask(400), AT)
    assert change.change is not None
    payment, event = change.change.payment, change.change.event
    assert (payment.amount_refund_pending, payment.amount_refunded, payment.refund_count) == (400, 0, 1)
    assert payment.refundable_amount == 600
    assert payment.status is S.SUCCEEDED  # pending money is not refunded yet
    assert event.event_type == "RefundRequested"
    assert event.event_id == "pay_1:v3"
    assert event.data["refund"] == {
        "id": change.refund.id,
        "amount": 400,
        "currency": "usd",
        "status": "pending",
        "reason": None,
        "stripe_refund_id": None,
        "failure_reason": None,
        "previous_status": None,
    }


def test_no_amount_means_everything_left():
    assert (
        request_refund(
            captured(amount_refunded=300, status=S.PARTIALLY_REFUNDED), ask(None), AT
        ).refund.amount
        == 700
    )


@pytest.mark.parametrize(
    "status", [S.PENDING, S.REQUIRES_ACTION, S.REQUIRES_CAPTURE, S.FAILED, S.CANCELED, S.REFUNDED]
)
def test_only_captured_payments_with_something_left_are_refundable(status):
    with pytest.raises(Conflict) as refused:
        request_refund(captured(status=status), ask(100), AT)
    assert refused.value.code == "payment_not_refundable"


@pytest.mark.parametrize(
    ("refunded", "pending", "amount", "left"),
    [(0, 0, 1_001, 1_000), (600, 0, 401, 400), (0, 900, 101, 100), (600, 400, None, 0)],
)
def test_refunded_and_pending_amounts_both_count(refunded, pending, amount, left):
    payment = captured(amount_refunded=refunded, amount_refund_pending=pending, status=S.PARTIALLY_REFUNDED)
    with pytest.raises(Conflict) as refused:
        request_refund(payment, ask(amount), AT)
    assert refused.value.code == "amount_exceeds_refundable"
    assert refused.value.extra["refundable_amount"] == left


def test_at_most_ten_refunds():
    with pytest.raises(Conflict) as refused:
        request_refund(
            captured(refund_count=MAX_REFUNDS, amount_refunded=10, status=S.PARTIALLY_REFUNDED), ask(1), AT
        )
    assert refused.value.code == "refund_limit_reached"


@pytest.mark.parametrize("amount", [5, 15, 999])
def test_three_decimal_currencies_refund_in_tens(amount):
    with pytest.raises(ValidationFailed):
        request_refund(captured(currency="kwd"), ask(amount), AT)


def test_three_decimal_ten_twenty_thirty_then_the_rest_is_exact():
    payment = captured(1_000, "kwd")
    for amount in (10, 20, 30, None):
        reserved = request_refund(payment, ask(amount, key=str(amount)), AT)
        payment, pending = commit(payment, reserved)
        assert pending is not None
        payment, _ = commit(
            payment,
            record_stripe_refund(
                payment, pending, stripe("succeeded", pending.amount, f"re_{amount}"), pending.id, AT
            ),
        )
    assert (payment.status, payment.amount_refunded, payment.amount_refund_pending) == (S.REFUNDED, 1_000, 0)


SNAPSHOTS = {"pending": stripe("pending"), "succeeded": stripe("succeeded"), "failed": stripe("failed")}


@pytest.mark.parametrize(
    ("seen", "final", "refunded"),
    [
        (("pending", "succeeded"), RefundStatus.SUCCEEDED, 400),
        (("pending", "failed"), RefundStatus.FAILED, 0),
        (("pending", "succeeded", "failed"), RefundStatus.FAILED, 0),
        (("succeeded",), RefundStatus.SUCCEEDED, 400),
    ],
)
def test_any_order_and_repeats_of_stripes_news_end_the_same(seen, final, refunded):
    """Each ordering of the snapshots, each delivered twice, for a reserved refund and an unknown one."""
    for reserved in (True, False):
        for order in itertools.permutations(seen * 2):
            payment = captured()
            refund: Refund | None = None
            if reserved:
                payment, refund = commit(payment, request_refund(payment, ask(400), AT))
            for name in order:
                applied = record_stripe_refund(
                    payment, refund, SNAPSHOTS[name], refund.id if refund else "rfd_x", AT
                )
                payment, updated = commit(payment, applied)
                refund = updated or refund
            assert refund is not None
            assert refund.status is final, order
            assert (payment.amount_refunded, payment.amount_refund_pending) == (refunded, 0), order
            assert payment.refund_count == (0 if final is RefundStatus.FAILED else 1)
            assert payment.status is (S.PARTIALLY_REFUNDED if refunded else S.SUCCEEDED)


def test_stale_or_repeated_news_is_a_no_op():
    payment, pending = commit(captured(), request_refund(captured(), ask(400), AT))
    assert pending is not None
    payment, issued = commit(
        payment, record_stripe_refund(payment, pending, stripe("succeeded"), pending.id, AT)
    )
    assert issued is not None
    assert record_stripe_refund(payment, issued, stripe("succeeded"), issued.id, AT) is None
    assert record_stripe_refund(payment, issued, stripe("pending"), issued.id, AT) is None
    # A snapshot of another Stripe refund never overwrites ours.
    assert (
        record_stripe_refund(payment, issued, stripe("failed", refund_id="re_other"), issued.id, AT) is None
    )


def test_stripes_id_on_a_pending_refund_changes_only_the_refund():
    payment, pending = commit(captured(), request_refund(captured(), ask(400), AT))
    assert pending is not None
    assert pending.awaiting_stripe
    applied = record_stripe_refund(payment, pending, stripe("pending"), pending.id, AT)
    assert applied is not None
    assert applied.change is None
    assert (applied.refund.stripe_refund_id, applied.refund.awaiting_stripe) == ("re_1", False)


def test_full_refund_then_a_late_failure_reopens_the_payment():
    payment, pending = commit(captured(), request_refund(captured(), ask(None), AT))
    payment, issued = commit(
        payment, record_stripe_refund(payment, pending, stripe("succeeded", 1_000), pending.id, AT)
    )
    assert payment.status is S.REFUNDED
    payment, failed = commit(
        payment, record_stripe_refund(payment, issued, stripe("failed", 1_000), pending.id, AT)
    )
    assert failed is not None
    assert failed.status is RefundStatus.FAILED
    assert (payment.status, payment.amount_refunded, payment.refundable_amount) == (S.SUCCEEDED, 0, 1_000)


def test_a_refusal_releases_the_reservation_once():
    payment, pending = commit(captured(), request_refund(captured(), ask(400), AT))
    assert pending is not None
    rejected = reject_refund(payment, pending, "charge_disputed", AT)
    assert rejected is not None
    assert rejected.change is not None
    assert rejected.change.event.event_type == "RefundFailed"
    payment, failed = commit(payment, rejected)
    assert (payment.amount_refund_pending, payment.refund_count) == (0, 0)
    assert failed is not None
    assert reject_refund(payment, failed, "charge_disputed", AT) is None


def test_news_about_a_payment_not_captured_in_our_records_waits():
    with pytest.raises(RefundNotApplicable):
        record_stripe_refund(captured(status=S.PROCESSING), None, stripe("succeeded"), "rfd_x", AT)
