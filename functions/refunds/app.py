"""EventBridge (source stripe): charge.refunded, charge.refund.updated, refund.* -> our refunds.

A bus event that does not parse fails loudly and, after the rule's retries, lands in the DLQ; so does
one about a payment we do not have yet, once its retries run out (nothing is dropped silently).
"""

from typing import Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from payments import services
from payments.application.refunds import RefundEventOutcome, StripeRefundEvent, apply_refund_event
from payments.subscriber import subscriber


class RefundBusEvent(EventBridgeModel):
    source: Literal["stripe"]
    detail: StripeRefundEvent


def handle(event: RefundBusEvent) -> RefundEventOutcome:
    return apply_refund_event(
        event.detail, services.store(), services.refunds(), services.gateway(), services.stripe_events()
    )


handler = subscriber(RefundBusEvent, handle)
