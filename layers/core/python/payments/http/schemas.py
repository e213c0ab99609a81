"""The HTTP contract's models: request validation, the views clients get, and the OpenAPI document."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from payments.domain.card import Card
from payments.domain.errors import FieldError
from payments.domain.events import DomainEvent
from payments.domain.money import MAX_AMOUNT, SUPPORTED, amount_problems
from payments.domain.payment import Payment
from payments.domain.payment_method import SavedPaymentMethod
from payments.domain.refund import Refund, RefundReason

OrderId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
StripePaymentMethodId = Annotated[str, StringConstraints(pattern=r"^pm_[A-Za-z0-9_]{1,250}$")]
MetadataKey = Annotated[str, StringConstraints(min_length=1, max_length=40)]
MetadataValue = Annotated[str, StringConstraints(max_length=500)]


def _https_url(value: str) -> str:
    if not value.startswith("https://") or len(value) > 2048:
        raise ValueError("must be an https URL of at most 2048 characters")
    return value


def _currency(value: str) -> str:
    lowered = value.lower()
    if lowered not in SUPPORTED:
        raise ValueError("must be a supported ISO 4217 currency code")
    return lowered


Currency = Annotated[str, StringConstraints(min_length=3, max_length=3), AfterValidator(_currency)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProcessPaymentRequest(Strict):
    order_id: OrderId = Field(description="Your order's id; an order has at most one live payment")
    # currency before amount: the amount's rules depend on it (validated in declaration order)
    currency: Currency = Field(description="ISO 4217 code, any case; stored lowercase")
    amount: StrictInt = Field(description="Integer amount in the currency's minor unit (cents for USD)")
    payment_method_id: StripePaymentMethodId = Field(description="A Stripe PaymentMethod id (pm_...)")
    capture: Literal["automatic", "manual"] = "automatic"
    description: Annotated[str, StringConstraints(max_length=1000)] | None = None
    metadata: dict[MetadataKey, MetadataValue] = Field(default_factory=dict, max_length=20)
    return_url: Annotated[str, AfterValidator(_https_url)] | None = Field(
        None, description="Where 3-D Secure returns the customer (https)"
    )
    customer_id: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = Field(
        None, description="Admins and services only: the customer to charge"
    )

    @field_validator("amount")
    @classmethod
    def _chargeable(cls, amount: int, info: ValidationInfo) -> int:
        currency = info.data.get("currency")
        problems: list[FieldError] = amount_problems(amount, currency or "usd", check_minimum=bool(currency))
        if problems:
            raise ValueError("; ".join(p.message for p in problems))
        return amount


class Failure(BaseModel):
    code: str
    decline_code: str | None = None
    message: str


class DisputeView(BaseModel):
    id: str
    status: str
    reason: str
    amount: int


class RefundResource(BaseModel):
    """A refund as clients see it (internal attributes of the stored record are left out)."""

    id: str = Field(description="Our refund id (rfd_...)")
    object: Literal["refund"] = "refund"
    payment_id: str
    amount: int = Field(description="Minor units of `currency`")
    currency: str
    status: Literal["pending", "succeeded", "failed", "canceled"]
    origin: Literal["api", "stripe"] = Field(description="`stripe`: made outside this API (dashboard)")
    reason: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    stripe_refund_id: str | None = None
    failure_reason: str | None = None
    created_at: str
    updated_at: str


class PaymentResource(BaseModel):
    id: str
    order_id: str
    customer_id: str
    amount: int
    currency: str
    status: str
    capture_method: str
    amount_captured: int
    amount_refunded: int
    dispute: DisputeView | None = None
    next_action: dict[str, Any] | None = None
    client_secret: str | None = None
    failure: Failure | None = None
    risk: dict[str, Any] | None = None
    description: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    refunds: list[RefundResource] = Field(default_factory=list)
    created_at: str
    updated_at: str
    version: int


class PaymentList(BaseModel):
    data: list[PaymentResource]
    next_cursor: str | None


class HistoryEvent(BaseModel):
    event_id: str
    event_type: str
    version: int
    occurred_at: str
    data: dict[str, Any]


class PaymentHistory(BaseModel):
    payment_id: str
    data: list[HistoryEvent]


def history_resource(payment_id: str, events: Sequence[DomainEvent]) -> dict[str, Any]:
    """A payment's history as clients see it: each event's envelope and data, oldest first."""
    return PaymentHistory(
        payment_id=payment_id,
        data=[
            HistoryEvent(
                event_id=e.event_id,
                event_type=e.event_type,
                version=e.version,
                occurred_at=e.occurred_at,
                data=e.data,
            )
            for e in events
        ],
    ).model_dump(mode="json")


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[dict[str, str]] | None = None
    param: str | None = None
    decline_code: str | None = None
    payment_id: str | None = None


def payment_resource(payment: Payment, refunds: Sequence[Refund] = ()) -> dict[str, Any]:
    failure = payment.failure
    dispute = payment.dispute
    return {
        "id": payment.id,
        "object": "payment",
        "order_id": payment.order_id,
        "customer_id": payment.customer_id,
        "amount": payment.amount,
        "currency": payment.currency,
        "status": str(payment.status),
        "capture_method": payment.capture_method,
        "amount_captured": payment.amount_captured,
        "amount_refunded": payment.amount_refunded,
        "dispute": None
        if dispute is None
        else {"id": dispute.id, "status": dispute.status, "reason": dispute.reason, "amount": dispute.amount},
        "next_action": payment.next_action,
        "client_secret": payment.client_secret,
        "failure": None
        if failure is None
        else {"code": failure.code, "decline_code": failure.decline_code, "message": failure.message},
        "risk": None,
        "description": payment.description,
        "metadata": payment.metadata,
        "refunds": [refund_resource(r) for r in sorted(refunds, key=lambda r: r.created_at)],
        "created_at": payment.created_at,
        "updated_at": payment.updated_at,
        "version": payment.version,
    }


def refund_resource(refund: Refund) -> dict[str, Any]:
    """The public view of a refund (who asked and the request's fingerprint stay internal)."""
    return RefundResource(
        id=refund.id,
        payment_id=refund.payment_id,
        amount=refund.amount,
        currency=refund.currency,
        status=refund.status,
        origin=refund.origin,
        reason=refund.reason,
        metadata=refund.metadata,
        stripe_refund_id=refund.stripe_refund_id,
        failure_reason=refund.failure_reason,
        created_at=refund.created_at,
        updated_at=refund.updated_at,
    ).model_dump(mode="json")


class RefundRequest(Strict):
    amount: Annotated[StrictInt, Field(gt=0, le=MAX_AMOUNT)] | None = Field(
        None, description="Minor units; omitted: everything still refundable"
    )
    reason: RefundReason | None = None
    metadata: dict[MetadataKey, MetadataValue] = Field(default_factory=dict, max_length=20)


class SavePaymentMethodRequest(Strict):
    payment_method_id: StripePaymentMethodId = Field(description="A Stripe PaymentMethod id (pm_...)")


class CardView(Card):
    # A view: the schema promises these fields, not that clients reject others.
    model_config = ConfigDict(extra="ignore", frozen=True)


class PaymentMethodResource(BaseModel):
    id: str = Field(description="Stripe's PaymentMethod id (pm_...): pass it as payment_method_id to pay")
    object: Literal["payment_method"] = "payment_method"
    customer_id: str
    type: str
    card: CardView | None = None
    created_at: str


class PaymentMethodList(BaseModel):
    data: list[PaymentMethodResource]
    next_cursor: str | None


def payment_method_resource(method: SavedPaymentMethod) -> dict[str, Any]:
    card = method.card
    return PaymentMethodResource(
        id=method.id,
        customer_id=method.customer_id,
        type=method.type,
        card=None if card is None else CardView(**card.model_dump()),
        created_at=method.created_at,
    ).model_dump(mode="json")
