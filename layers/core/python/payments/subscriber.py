"""Glue shared by the EventBridge subscribers: parse the bus event with its Powertools parser model,
run the use case, count its outcome.

Anything that fails (an event that does not parse, a payment not known yet, Stripe or DynamoDB down)
raises: EventBridge retries per the rule's policy, then parks the event in the rule's DLQ. Nothing is
dropped silently; duplicates are harmless because every use case is idempotent.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import Field

from payments.application.stripe_event import StripeEvent
from payments.domain.events import PaymentEvent, PayoutEvent
from payments.observability import count, logger, metrics
from payments.snapstart import entry_point


class StripeBusEvent(EventBridgeModel):
    """A Stripe event the webhook forwarded."""

    source: Literal["stripe"]
    detail: StripeEvent


class PaymentBusEvent(EventBridgeModel):
    """One of our domain events about a payment or a payout."""

    source: Literal["payments"]
    # A payout event first: its event types are its own, while PaymentEvent's name every type.
    detail: Annotated[PayoutEvent | PaymentEvent, Field(union_mode="left_to_right")]


BusEvent = TypeVar("BusEvent", bound=EventBridgeModel)


def subscriber(
    model: type[BusEvent], handle: Callable[[BusEvent], StrEnum]
) -> Callable[[dict[str, Any], Any], dict[str, str]]:
    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics(raise_on_empty_metrics=False)
    def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
        logger.append_keys(bus_event_id=event.get("id"), detail_type=event.get("detail-type"))
        try:
            outcome = handle(parse(event=event, model=model))
        except Exception:
            logger.exception("event failed; EventBridge retries it, then keeps it in the DLQ")
            raise
        logger.info("event handled", extra={"outcome": outcome.value})
        count(outcome.value)
        return {"outcome": outcome.value}

    return entry_point(handler)
