"""Domain events: the envelope every event shares and the typed payload of each kind.

An event is written in the same transaction as the state it explains (EVENT# item), serves as the
payment's history, and is published to EventBridge after commit (source "payments", detail-type =
event_type, detail = the envelope). Ids are deterministic (aggregate id and version), so a republish
or a retried commit carries the same id and consumers can dedupe on it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from payments.domain.payment import Payment

EventType = Literal[
    "PaymentInitiated",
    "PaymentProcessing",
    "PaymentRequiresAction",
    "PaymentAuthorized",
    "PaymentProcessed",
    "PaymentCaptured",
    "PaymentFailed",
    "PaymentCanceled",
    "RefundRequested",
    "RefundIssued",
    "RefundFailed",
    "ChargebackReceived",
    "DisputeUpdated",
    "DisputeClosed",
    "PaymentMethodSaved",
    "PaymentMethodDeleted",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FailureData(_Model):
    code: str
    message: str
    decline_code: str | None = None


class DisputeData(_Model):
    id: str
    status: str
    reason: str
    amount: int


class PaymentData(_Model):
    """The payment as it stands after the event: enough for consumers to act without a read."""

    amount: int = Field(description="Minor units of `currency`")
    currency: str
    status: str
    capture_method: str
    amount_captured: int
    amount_refunded: int
    stripe_payment_intent_id: str | None = None
    stripe_charge_id: str | None = None
    stripe_fee: int | None = Field(None, description="Stripe's fee on the charge in minor units")
    failure: FailureData | None = None
    dispute: DisputeData | None = None
    refund: dict[str, Any] | None = Field(None, description="The refund this event is about, if any")


class DomainEvent(_Model):
    event_id: str
    event_type: EventType
    version: int = Field(description="The aggregate's version this event produced")
    occurred_at: str = Field(description="RFC 3339 UTC")
    payment_id: str | None = None
    order_id: str | None = None
    customer_id: str
    data: dict[str, Any]

    @classmethod
    def about(cls, payment: Payment, event_type: EventType, at: str, **extra: Any) -> DomainEvent:
        return cls(
            event_id=f"{payment.id}:v{payment.version}",
            event_type=event_type,
            version=payment.version,
            occurred_at=at,
            payment_id=payment.id,
            order_id=payment.order_id,
            customer_id=payment.customer_id,
            data=payment_data(payment, **extra).model_dump(mode="json"),
        )


def payment_data(payment: Payment, **extra: Any) -> PaymentData:
    failure = payment.failure
    dispute = payment.dispute
    return PaymentData(
        amount=payment.amount,
        currency=payment.currency,
        status=str(payment.status),
        capture_method=payment.capture_method,
        amount_captured=payment.amount_captured,
        amount_refunded=payment.amount_refunded,
        stripe_payment_intent_id=payment.stripe_payment_intent_id,
        stripe_charge_id=payment.stripe_charge_id,
        stripe_fee=payment.stripe_fee,
        failure=FailureData(code=failure.code, message=failure.message, decline_code=failure.decline_code)
        if failure
        else None,
        dispute=DisputeData(
            id=dispute.id, status=dispute.status, reason=dispute.reason, amount=dispute.amount
        )
        if dispute
        else None,
        **extra,
    )
