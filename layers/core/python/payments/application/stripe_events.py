"""Stripe events as the webhook forwards them, and the payment_status subscriber's use case.

`payment_intent.*` events go through `intent_snapshot` and `payment_intents.record_intent`, the same
path as Stripe's synchronous answers, so the two agree and late or repeated news cannot move a payment
back; an intent that names a payment but is not its own is recorded as stray, never dropped.
Mapping back: our `payment_id` is in the PaymentIntent's metadata. An intent without one was not made
by this service (ignored, counted); a payment id we do not hold (yet) raises, so EventBridge retries
the event and finally parks it in the rule's DLQ: never dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from payments.adapters.stripe.gateway import intent_snapshot
from payments.application.commit import Store
from payments.application.payment_intents import record_intent
from payments.application.ports import PaymentGateway, StripeEventSource
from payments.domain.errors import NotFound
from payments.domain.payment import Change, Payment

logger = logging.getLogger(__name__)

# Set on a copy the webhook had to slim to fit the bus; subscribers fetch the whole event from Stripe.
SLIMMED = "payments_slimmed"


class StripeEventData(BaseModel):
    model_config = ConfigDict(extra="allow")

    object: dict[str, Any]
    previous_attributes: dict[str, Any] | None = None


class StripeEvent(BaseModel):
    """A Stripe event (the webhook's body, and the `detail` of `stripe` bus events)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    id: str = Field(pattern=r"^evt_\w+$")
    object: Literal["event"]
    type: str = Field(min_length=1)
    created: int
    livemode: bool
    api_version: str | None = None
    data: StripeEventData
    slimmed: bool = Field(False, alias=SLIMMED)


def full_object(event: StripeEvent, source: StripeEventSource) -> dict[str, Any]:
    """The event's object, fetched from Stripe when the bus carried a slimmed copy."""
    if not event.slimmed:
        return event.data.object
    return StripeEvent.model_validate(source.retrieve_event(event.id)).data.object


class PaymentStatusOutcome(StrEnum):
    """What a payment_intent event did; the value is the metric counted."""

    CHANGED = "PaymentStatusChanged"
    UNCHANGED = "PaymentStatusUnchanged"  # a repeat, a late arrival, or news we already had
    NOT_OURS = "StripeEventsNotOurs"


def apply_payment_intent_event(
    event: StripeEvent, store: Store, gateway: PaymentGateway, source: StripeEventSource
) -> PaymentStatusOutcome:
    obj = full_object(event, source)
    payment_id = (obj.get("metadata") or {}).get("payment_id")
    if not payment_id:
        logger.info("%s %s: not a payment of this service; ignored", event.type, event.id)
        return PaymentStatusOutcome.NOT_OURS
    payment = store.payments.get(payment_id)
    if payment is None:
        raise NotFound(f"payment {payment_id} is not known (yet); the event will be retried")
    if obj.get("object") == "charge":
        # charge.updated: its balance transaction (Stripe's fee) may have arrived; the intent has it.
        if not obj.get("payment_intent") or not obj.get("balance_transaction"):
            return PaymentStatusOutcome.UNCHANGED
        snapshot = gateway.retrieve_intent(str(obj["payment_intent"]))
    else:
        snapshot = intent_snapshot(obj)
    fee_unknown = snapshot.status == "succeeded" and snapshot.fee is None and payment.stripe_fee is None
    if snapshot.attempt_failed or fee_unknown:
        # Events come in any order and may be old: a cancel is decided on Stripe's state now, and
        # webhooks name the charge by id only while the ledger needs Stripe's fee.
        snapshot = gateway.retrieve_intent(snapshot.id)
    after = record_intent(store, payment, snapshot, gateway)
    changed = after.version != payment.version
    return PaymentStatusOutcome.CHANGED if changed else PaymentStatusOutcome.UNCHANGED


def update(
    store: Store,
    payment_id: str,
    decide: Callable[[Payment], Change | None],
    known: Payment | None = None,
) -> Change | None:
    """`Store.update`, telling which change (if any) was committed: the last decision is the one
    that stuck (a lost optimistic-lock race decides again on the fresh payment)."""
    decided: list[Change | None] = [None]

    def remember(current: Payment) -> Change | None:
        decided[0] = decide(current)
        return decided[0]

    store.update(payment_id, remember, known=known)
    return decided[0]
