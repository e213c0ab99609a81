"""Stripe's webhook: verify, dedupe on the event id, forward to the bus.

Answers, and why (Stripe retries any non-2xx for three days, then may disable the endpoint):
- bad or missing signature, a body that is not a Stripe event: 400, nothing forwarded;
- an event of the other mode (live vs test): 400 `livemode_mismatch`, nothing forwarded. The signature
  was made with our secret, so this is a misconfiguration (a live endpoint pointing at a test stack, or
  our mode setting wrong). Refusing keeps Stripe retrying, so nothing is lost while it is fixed, and
  shows the failures in Stripe's dashboard; a 200 would drop the events for good;
- a type no subscriber handles (the catalog's subscriptions decide, see `forwarded`): 200, ignored and
  counted (the endpoint may be subscribed to more);
- a repeat of an event already forwarded: 200, nothing forwarded again;
- the same event still being forwarded by another attempt: 409, so Stripe tries again later;
- the bus refusing the event: 500, not remembered, so Stripe's retry forwards it.

Too large for one bus entry (256 KB): the event is forwarded slimmed (its envelope and its object's
scalar fields and metadata, marked `payments_slimmed`); subscribers fetch the whole event from Stripe.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from payments.application.ports import Deduplicator, StripeEventForwarder
from payments.application.stripe_event import SLIMMED, StripeEvent
from payments.domain.errors import BadRequest

TOLERANCE_SECONDS = 300


class WebhookOutcome(StrEnum):
    """What the webhook did with a verified event; the value is the metric counted."""

    FORWARDED = "WebhookEventsForwarded"
    DUPLICATE = "WebhookEventsDuplicate"
    IGNORED = "WebhookEventsIgnored"


@dataclass(frozen=True)
class Receipt:
    outcome: WebhookOutcome
    event_id: str
    event_type: str
    lag_seconds: float  # now - the event's creation at Stripe
    slimmed: bool = False


Verifier = Callable[[bytes, str | None, Sequence[str], int], None]


@dataclass
class WebhookReceiver:
    verify: Verifier  # raises BadRequest("signature_invalid")
    secrets: Callable[[], Sequence[str]]  # current first; the previous one while rotating
    forwarder: StripeEventForwarder
    dedupe: Deduplicator
    forwarded: frozenset[str]  # the Stripe event types a subscriber handles
    livemode: bool
    clock: Callable[[], float] = field(default=time.time)

    def receive(self, payload: bytes, signature: str | None, lambda_context: Any = None) -> Receipt:
        self.verify(payload, signature, self.secrets(), TOLERANCE_SECONDS)
        return self.accept(*parse_event(payload), lambda_context)

    def accept(self, raw: dict[str, Any], event: StripeEvent, lambda_context: Any = None) -> Receipt:
        """What happens to a verified event: the webhook's after its signature check, and an event an
        operator fetched from Stripe by id (tools/operations), deduped on the same event ids."""
        receipt = Receipt(WebhookOutcome.IGNORED, event.id, event.type, self.clock() - event.created)
        if event.livemode != self.livemode:
            raise BadRequest(
                "livemode_mismatch",
                f"this endpoint takes {'live' if self.livemode else 'test'}-mode events only",
            )
        if event.type not in self.forwarded:
            return receipt
        detail = raw if self.forwarder.fits(raw) else slim(raw)
        forwarded = self.dedupe.first_time(event.id, lambda: self.forwarder.forward(detail), lambda_context)
        outcome = WebhookOutcome.FORWARDED if forwarded else WebhookOutcome.DUPLICATE
        return Receipt(outcome, event.id, event.type, receipt.lag_seconds, slimmed=detail is not raw)


def parse_event(payload: bytes) -> tuple[dict[str, Any], StripeEvent]:
    try:
        raw = json.loads(payload)
    except ValueError:  # JSON errors are ValueErrors, like bad UTF-8
        raise BadRequest("malformed_event", "the body is not a Stripe event") from None
    return raw, validate_event(raw)


def validate_event(raw: Any) -> StripeEvent:
    try:
        return StripeEvent.model_validate(raw)
    except ValidationError:
        raise BadRequest("malformed_event", "the body is not a Stripe event") from None


def slim(event: dict[str, Any]) -> dict[str, Any]:
    """The event with only what fits for sure: its envelope and its object's identity, scalar fields
    (ids, status, amounts, currency, the payment_intent or charge it belongs to) and metadata."""
    obj = event["data"]["object"]
    kept = {k: v for k, v in obj.items() if k == "metadata" or not isinstance(v, dict | list)}
    envelope = {k: v for k, v in event.items() if k != "data"}
    return {**envelope, "data": {"object": kept}, SLIMMED: True}
