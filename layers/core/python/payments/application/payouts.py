"""The payouts subscriber's use case: Stripe's payout.* news -> our payout record and its domain events
(PayoutCreated, PayoutPaid, PayoutFailed, PayoutCanceled), which the accounting subscriber books.

Each piece of news is applied forward only (domain/payout.py), so duplicates and any order of delivery
end in the same state. The record is written first, then its event published: when the publish fails
the delivery fails, and Stripe's news, retried by EventBridge, finds the record moved already by that very
Stripe event and publishes the same event (same id) again. Consumers dedupe on the id; other news that
moves nothing (an older status, in transit after pending) publishes nothing.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from payments.application.clock import now
from payments.application.ports import EventPublisher, PayoutRepository, StripeEventSource
from payments.application.stripe_event import StripeEvent, full_object
from payments.domain.errors import ConcurrentUpdate
from payments.domain.payout import StripePayout, apply_payout

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 4


class PayoutObject(BaseModel):
    """Stripe's Payout object, the fields we keep."""

    model_config = ConfigDict(extra="ignore")

    object: str
    id: str
    amount: int
    currency: str
    status: str
    automatic: bool = False
    arrival_date: int | None = None
    failure_code: str | None = None

    def snapshot(self) -> StripePayout:
        return StripePayout(
            id=self.id,
            amount=self.amount,
            currency=self.currency,
            status=self.status,
            automatic=self.automatic,
            arrival_date=self.arrival_date,
            failure_code=self.failure_code,
        )


class PayoutOutcome(StrEnum):
    """What a payout event did; the value is the metric counted."""

    CHANGED = "PayoutsChanged"
    UNCHANGED = "PayoutEventsUnchanged"  # a repeat, a late arrival, or news we already had


def apply_payout_event(
    event: StripeEvent, payouts: PayoutRepository, publisher: EventPublisher, source: StripeEventSource
) -> PayoutOutcome:
    news = PayoutObject.model_validate(full_object(event, source)).snapshot()
    for _attempt in range(MAX_ATTEMPTS):
        current = payouts.get(news.id)
        after = apply_payout(current, news, now(), event.id)
        if after is None:
            if current is not None and current.stripe_event_id == event.id:
                # The delivery of the news that made the record's last change, again: its publish may
                # have failed after the save. Republish; a repeat is deduped downstream.
                publisher.publish([current.event()])
            logger.info("%s %s: nothing new for payout %s", event.type, event.id, news.id)
            return PayoutOutcome.UNCHANGED
        try:
            payouts.save(after)
        except ConcurrentUpdate:
            continue
        publisher.publish([after.event()])
        return PayoutOutcome.CHANGED
    raise ConcurrentUpdate(f"payout {news.id} kept changing; the event will be retried")
