"""The refunds subscriber: Stripe's refund news (forwarded by the webhook) -> our refunds.

`refund.created`, `refund.updated`, `refund.failed` and `charge.refund.updated` carry a Refund; each is
applied through the same monotonic rules as Stripe's synchronous answer (domain/refund.py), so
duplicates, late arrivals and any order end in the same state. `charge.refunded` carries the Charge:
API versions before 2022-11-15 embed its refunds, which are applied the same way; newer ones do not,
and the refund.* events that always accompany it carry the news. (Its cumulative `amount_refunded`
is not applied: it counts pending refunds and falls when one fails; see domain/refund.py.)

Mapping back: our `payment_id` and `refund_id` are in the metadata of refunds we create; a refund made
elsewhere (the dashboard) is mapped through its PaymentIntent's metadata and recorded as a new refund.
A payment we do not have (yet) raises, so the event is retried and never dropped.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from payments.application.clock import now
from payments.application.commit import Store
from payments.application.ports import RefundGateway, RefundRepository, StripeEventSource
from payments.application.refund_payment import commit_refund
from payments.application.stripe_event import SLIMMED
from payments.domain.errors import NotFound
from payments.domain.payment import Payment
from payments.domain.refund import (
    Refund,
    RefundChange,
    StripeRefund,
    record_stripe_refund,
    refund_id_for_stripe,
)

logger = logging.getLogger(__name__)

RefundEventType = Literal[
    "charge.refunded", "charge.refund.updated", "refund.created", "refund.updated", "refund.failed"
]


class StripeRefundObject(BaseModel):
    object: Literal["refund"]
    id: str
    amount: int
    currency: str
    status: str
    payment_intent: str | None = None
    charge: str | None = None
    reason: str | None = None
    failure_reason: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)

    def snapshot(self) -> StripeRefund:
        return StripeRefund(
            id=self.id,
            status=self.status,
            amount=self.amount,
            currency=self.currency,
            payment_intent_id=self.payment_intent,
            reason=self.reason,
            failure_reason=self.failure_reason,
            metadata=dict(self.metadata),
        )


class StripeRefundList(BaseModel):
    data: list[StripeRefundObject]


class StripeChargeObject(BaseModel):
    object: Literal["charge"]
    id: str
    amount_refunded: int
    payment_intent: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    refunds: StripeRefundList | None = None  # embedded by API versions before 2022-11-15


class StripeEventData(BaseModel):
    object: Annotated[StripeRefundObject | StripeChargeObject, Field(discriminator="object")]


class StripeRefundEvent(BaseModel):
    """The Stripe event, as the webhook forwards it in the bus event's `detail`."""

    model_config = ConfigDict(populate_by_name=True)

    id: str
    type: RefundEventType
    created: int
    data: StripeEventData
    # Too large for the bus: the webhook kept the object's scalars and metadata (all a Refund needs)
    # and dropped nested parts, such as a charge's embedded refunds.
    slimmed: bool = Field(False, alias=SLIMMED)


class RefundEventOutcome(StrEnum):
    """What a refund event did; the value is the metric counted."""

    CHANGED = "RefundsChanged"
    UNCHANGED = "RefundsUnchanged"  # a repeat, a late arrival, or news we already had
    NOT_OURS = "StripeEventsNotOurs"


def apply_refund_event(
    event: StripeRefundEvent,
    store: Store,
    refunds: RefundRepository,
    gateway: RefundGateway,
    source: StripeEventSource,
) -> RefundEventOutcome:
    obj = event.data.object
    if isinstance(obj, StripeChargeObject) and event.slimmed:
        obj = StripeEventData.model_validate(source.retrieve_event(event.id)["data"]).object
    if isinstance(obj, StripeRefundObject):
        snapshots = [obj.snapshot()]
    else:
        snapshots = [refund.snapshot() for refund in obj.refunds.data] if obj.refunds else []
    # Charges carry their PaymentIntent's metadata, so our payment_id; refunds carry it if we made them.
    payment_id = obj.metadata.get("payment_id") or _payment_of_intent(obj.payment_intent, gateway)
    if payment_id is None:
        logger.info("%s %s: not a payment of this service; ignored", event.type, event.id)
        return RefundEventOutcome.NOT_OURS
    changed = [apply_stripe_refund(payment_id, snapshot, store, refunds) for snapshot in snapshots]
    return RefundEventOutcome.CHANGED if any(changed) else RefundEventOutcome.UNCHANGED


def apply_stripe_refund(
    payment_id: str, stripe: StripeRefund, store: Store, refunds: RefundRepository
) -> bool:
    """Record Stripe's snapshot of one refund; False when it told us nothing new."""
    refund_id = _our_refund_id(payment_id, stripe, refunds)
    decided: list[RefundChange | None] = [None]
    stray = [False]

    def decide(payment: Payment, current: Refund | None) -> RefundChange | None:
        own = payment.stripe_payment_intent_id
        if own is not None and stripe.payment_intent_id not in (None, own):
            # A refund of a stray intent (one our books do not hold, see payment_intents): the
            # payment's history records that intent and what was done with it; its money is not ours.
            stray[0] = True
            return None
        # The last decision is the one committed (a lost race decides again on fresh state).
        decided[0] = record_stripe_refund(payment, current, stripe, refund_id, now())
        return decided[0]

    try:
        commit_refund(store, refunds, payment_id, refund_id, decide)
    except NotFound:
        if not stray[0]:
            raise
        logger.info(
            "refund %s is of intent %s, not payment %s's own", stripe.id, stripe.payment_intent_id, payment_id
        )
    return decided[0] is not None


def _our_refund_id(payment_id: str, stripe: StripeRefund, refunds: RefundRepository) -> str:
    """Ours from the metadata we set; else a refund we already hold with this Stripe id; else new."""
    if stripe.metadata.get("refund_id"):
        return stripe.metadata["refund_id"]
    known = next((r for r in refunds.of_payment(payment_id) if r.stripe_refund_id == stripe.id), None)
    return known.id if known else refund_id_for_stripe(stripe.id)


def _payment_of_intent(intent_id: str | None, gateway: RefundGateway) -> str | None:
    if intent_id is None:
        return None
    return gateway.payment_id_of_intent(intent_id)
