"""Refunds (pure): reserving an amount, and following what Stripe says about each refund.

Each refund's status only moves forward (pending -> succeeded -> failed, or pending -> failed), and
the payment's `amount_refund_pending`, `amount_refunded`, `refund_count` and status change by what a
refund's move adds or takes away. So Stripe's news about a refund applies once whatever the order,
and a stale or repeated snapshot is a no-op.

Stripe's charge-level `amount_refunded` is not used: it counts pending refunds, drops when a refund
fails and includes the released part of a partial capture, so it cannot be applied monotonically.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from payments.domain.errors import ConcurrentUpdate, Conflict, PaymentsError, ValidationFailed
from payments.domain.events import DomainEvent, EventType, RefundData
from payments.domain.ids import derived_id
from payments.domain.money import amount_problems
from payments.domain.payment import REFUNDABLE, Change, Payment, PaymentStatus

MAX_REFUNDS = 10  # refunds that are pending or succeeded, per payment
RefundReason = Literal["requested_by_customer", "duplicate", "fraudulent"]
RefundOrigin = Literal["api", "stripe"]  # asked through our API, or made elsewhere (Stripe dashboard)


class RefundStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


R = RefundStatus
# A succeeded card refund can still fail later (Stripe reports it), so succeeded ranks below failed.
_RANK = {R.PENDING: 0, R.SUCCEEDED: 1, R.FAILED: 2, R.CANCELED: 2}
_STRIPE_STATUS = {
    "pending": R.PENDING,
    "requires_action": R.PENDING,
    "succeeded": R.SUCCEEDED,
    "failed": R.FAILED,
    "canceled": R.CANCELED,
}
_EVENT: dict[RefundStatus, EventType] = {
    R.PENDING: "RefundRequested",
    R.SUCCEEDED: "RefundIssued",
    R.FAILED: "RefundFailed",
    R.CANCELED: "RefundFailed",
}
# Stripe may report refunds on a payment whose capture we have not recorded yet: those wait.
_HAS_CAPTURE = REFUNDABLE | {PaymentStatus.REFUNDED}


class RefundNotApplicable(PaymentsError):
    """Stripe news about a refund on a payment we do not hold as captured yet; retried later."""

    code = "refund_not_applicable_yet"
    status = 409
    title = "The payment is not ready for this refund"


class RefundChanged(ConcurrentUpdate):
    """The refund record changed between our read and our write: read again and decide again."""


@dataclass(frozen=True)
class StripeRefund:
    """What we need from a Stripe Refund, free of SDK types."""

    id: str
    status: str
    amount: int
    currency: str
    payment_intent_id: str | None = None
    reason: str | None = None
    failure_reason: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Refund:
    id: str
    payment_id: str
    amount: int
    currency: str
    status: RefundStatus
    created_at: str
    updated_at: str
    origin: RefundOrigin = "api"
    reason: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    stripe_refund_id: str | None = None
    failure_reason: str | None = None
    requested_by: str | None = None  # the admin who asked (API refunds)
    request_hash: str | None = None  # a reused Idempotency-Key with another body is refused

    @property
    def awaiting_stripe(self) -> bool:
        """Reserved but Stripe has not answered yet (a crash or an outage came between)."""
        return self.status is R.PENDING and self.stripe_refund_id is None

    def event_data(self, previous: Refund | None = None) -> RefundData:
        """The refund as events carry it in `data.refund`."""
        return RefundData(
            id=self.id,
            amount=self.amount,
            currency=self.currency,
            status=self.status.value,
            reason=self.reason,
            stripe_refund_id=self.stripe_refund_id,
            failure_reason=self.failure_reason,
            previous_status=str(previous.status) if previous else None,
        )

    def as_record(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        values["status"] = str(self.status)
        return values

    @classmethod
    def from_record(cls, values: dict[str, Any]) -> Refund:
        names = {f.name for f in dataclasses.fields(cls)}
        known = {k: v for k, v in values.items() if k in names}
        known["status"] = RefundStatus(known["status"])
        return cls(**known)

    def advanced(self, stripe: StripeRefund, at: str) -> Refund | None:
        """This refund after Stripe's snapshot, or None when the snapshot brings nothing new."""
        status = stripe_status(stripe.status)
        if self.stripe_refund_id not in (None, stripe.id):
            return None  # another Stripe refund claims our id: not ours to apply
        if _RANK[status] < _RANK[self.status]:
            return None  # older news than what we hold
        if _RANK[status] == _RANK[self.status] and (status is not self.status or self.stripe_refund_id):
            return None  # same news again (or the other terminal status, which cannot follow)
        return dataclasses.replace(
            self,
            status=status,
            stripe_refund_id=stripe.id,
            failure_reason=stripe.failure_reason or self.failure_reason,
            updated_at=at,
        )


def stripe_status(value: str) -> RefundStatus:
    return _STRIPE_STATUS.get(value, R.PENDING)


def refund_id_for(payment_id: str, requested_by: str, idempotency_key: str) -> str:
    """Our refund id derives from the request, so a retried request finds the refund it started."""
    return derived_id("rfd", payment_id, requested_by, idempotency_key)


def refund_id_for_stripe(stripe_refund_id: str) -> str:
    """The id of a refund made outside our API (e.g. in the dashboard): stable across redeliveries."""
    return derived_id("rfd", "stripe", stripe_refund_id)


@dataclass(frozen=True)
class RefundChange:
    """A refund's new state, the state it replaces, and the payment change it causes (None when only
    the refund record changes, e.g. Stripe's id arriving while the refund stays pending)."""

    refund: Refund
    previous: Refund | None
    change: Change | None


@dataclass(frozen=True)
class RefundRequest:
    refund_id: str
    amount: int | None  # None: everything still refundable
    reason: str | None
    metadata: dict[str, str]
    requested_by: str
    request_hash: str


def request_refund(payment: Payment, request: RefundRequest, at: str) -> RefundChange:
    """Reserve the amount: the payment's refundable amount shrinks before Stripe is asked."""
    if payment.status not in REFUNDABLE:
        raise Conflict(
            "payment_not_refundable",
            f"only a succeeded or partially refunded payment can be refunded; this one is {payment.status}",
            payment_id=payment.id,
        )
    if payment.refund_count >= MAX_REFUNDS:
        raise Conflict(
            "refund_limit_reached",
            f"a payment can have at most {MAX_REFUNDS} refunds",
            payment_id=payment.id,
        )
    left = payment.refundable_amount
    amount = left if request.amount is None else request.amount
    if request.amount is not None:
        problems = amount_problems(amount, payment.currency, check_minimum=False)
        if problems:
            raise ValidationFailed(problems)
    if amount <= 0 or amount > left:
        raise Conflict(
            "amount_exceeds_refundable",
            f"the refund exceeds what is left to refund ({max(left, 0)})",
            payment_id=payment.id,
            param="amount",
            refundable_amount=max(left, 0),
        )
    refund = Refund(
        id=request.refund_id,
        payment_id=payment.id,
        amount=amount,
        currency=payment.currency,
        status=R.PENDING,
        created_at=at,
        updated_at=at,
        reason=request.reason,
        metadata=dict(request.metadata),
        requested_by=request.requested_by,
        request_hash=request.request_hash,
    )
    return RefundChange(refund, None, _settle(payment, None, refund, at))


def record_stripe_refund(
    payment: Payment, current: Refund | None, stripe: StripeRefund, refund_id: str, at: str
) -> RefundChange | None:
    """Apply Stripe's snapshot of a refund (its synchronous answer or a webhook); None if stale."""
    if current is None:
        # Made outside our API: record it as Stripe has it.
        refund: Refund | None = Refund(
            id=refund_id,
            payment_id=payment.id,
            amount=stripe.amount,
            currency=stripe.currency,
            status=stripe_status(stripe.status),
            created_at=at,
            updated_at=at,
            origin="stripe",
            reason=stripe.reason,
            metadata=dict(stripe.metadata),
            stripe_refund_id=stripe.id,
            failure_reason=stripe.failure_reason,
        )
    else:
        refund = current.advanced(stripe, at)
    if refund is None:
        return None
    return RefundChange(refund, current, _settle(payment, current, refund, at))


def reject_refund(payment: Payment, current: Refund, reason: str, at: str) -> RefundChange | None:
    """Stripe refused the request itself: nothing exists there, so the reservation is released."""
    if not current.awaiting_stripe:
        return None
    refund = dataclasses.replace(current, status=R.FAILED, failure_reason=reason, updated_at=at)
    return RefundChange(refund, current, _settle(payment, current, refund, at))


def _settle(payment: Payment, before: Refund | None, after: Refund, at: str) -> Change | None:
    """The payment change a refund's move causes; a new refund is always recorded in history."""
    pending, refunded, counted = (a - b for a, b in zip(_holds(after), _holds(before), strict=True))
    if before is not None and not (pending or refunded or counted):
        return None
    if payment.status not in _HAS_CAPTURE:
        raise RefundNotApplicable(
            f"payment {payment.id} is {payment.status}; its capture has not been recorded yet",
            payment_id=payment.id,
        )
    amount_refunded = payment.amount_refunded + refunded
    updated = payment.record(
        _EVENT[after.status],
        at,
        amount_refund_pending=payment.amount_refund_pending + pending,
        amount_refunded=amount_refunded,
        refund_count=payment.refund_count + counted,
        status=_status_after(payment, amount_refunded),
    ).payment
    return Change(
        updated, DomainEvent.about(updated, _EVENT[after.status], at, refund=after.event_data(before))
    )


def _holds(refund: Refund | None) -> tuple[int, int, int]:
    """What a refund holds of its payment: (pending amount, refunded amount, refund count)."""
    if refund is None or refund.status in (R.FAILED, R.CANCELED):
        return 0, 0, 0
    if refund.status is R.PENDING:
        return refund.amount, 0, 1
    return 0, refund.amount, 1


def _status_after(payment: Payment, amount_refunded: int) -> PaymentStatus:
    """The status follows the refunded amount: nothing left means refunded."""
    if amount_refunded >= payment.amount_captured:
        return PaymentStatus.REFUNDED
    if amount_refunded > 0:
        return PaymentStatus.PARTIALLY_REFUNDED
    # Only a refund failing after it succeeded brings the amount back to zero.
    return PaymentStatus.SUCCEEDED
