"""The disputes subscriber's use case: Stripe's charge.dispute.* events -> the payment's dispute.

Mapping back: a dispute names its PaymentIntent, whose metadata holds our payment id (one Stripe read,
remembered while warm). The dispute's state comes from the event itself and is applied forward only
(domain/dispute.py), so duplicates and any order of delivery end in the same state. The money comes
from the dispute's balance transactions, which Stripe embeds in the dispute object.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from payments.application.clock import now
from payments.application.commit import Store
from payments.application.ports import RefundGateway, StripeEventSource
from payments.application.stripe_event import StripeEvent, full_object
from payments.domain.dispute import StripeDispute, apply_dispute

logger = logging.getLogger(__name__)


class BalanceTransactionObject(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    amount: int
    fee: int = 0
    currency: str


class DisputeObject(BaseModel):
    model_config = ConfigDict(extra="ignore")

    object: str = Field(pattern="^dispute$")
    id: str
    status: str
    reason: str
    amount: int
    currency: str
    charge: str | None = None
    payment_intent: str | None = None
    balance_transactions: list[BalanceTransactionObject] = Field(default_factory=list)

    def snapshot(self) -> StripeDispute:
        """Totals of what the dispute took from and gave back to our Stripe balance so far."""
        moves = self.balance_transactions
        return StripeDispute(
            id=self.id,
            status=self.status,
            reason=self.reason,
            amount=self.amount,
            currency=moves[0].currency if moves else self.currency,
            amount_withdrawn=sum(-t.amount for t in moves if t.amount < 0),
            fee=sum(t.fee for t in moves if t.fee > 0),
            amount_reinstated=sum(t.amount for t in moves if t.amount > 0),
            fee_reinstated=sum(-t.fee for t in moves if t.fee < 0),
        )


class DisputeOutcome(StrEnum):
    """What a dispute event did; the value is the metric counted."""

    OPENED = "DisputesOpened"
    UPDATED = "DisputesUpdated"
    CLOSED = "DisputesClosed"
    UNCHANGED = "DisputeEventsUnchanged"
    NOT_OURS = "StripeEventsNotOurs"


_OUTCOMES = {
    "ChargebackReceived": DisputeOutcome.OPENED,
    "DisputeUpdated": DisputeOutcome.UPDATED,
    "DisputeClosed": DisputeOutcome.CLOSED,
}


def apply_dispute_event(
    event: StripeEvent, store: Store, gateway: RefundGateway, source: StripeEventSource
) -> DisputeOutcome:
    dispute = DisputeObject.model_validate(full_object(event, source))
    payment_id = gateway.payment_id_of_intent(dispute.payment_intent) if dispute.payment_intent else None
    if payment_id is None:
        # This service only makes PaymentIntents with our id in their metadata.
        logger.info("%s %s: dispute on a charge made elsewhere; ignored", event.type, dispute.id)
        return DisputeOutcome.NOT_OURS
    # A payment we do not hold (yet) raises NotFound in update: EventBridge retries, then the DLQ.
    news = dispute.snapshot()
    change = store.committed_change(payment_id, lambda payment: apply_dispute(payment, news, now()))
    return _OUTCOMES[change.event.event_type] if change else DisputeOutcome.UNCHANGED
