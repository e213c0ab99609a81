"""EventBridge (source stripe): payment_intent.* -> the payment's status and its domain events."""

from payments import services
from payments.application.payment_status import PaymentStatusOutcome, apply_payment_intent_event
from payments.subscriber import StripeBusEvent, subscriber


def handle(event: StripeBusEvent) -> PaymentStatusOutcome:
    return apply_payment_intent_event(
        event.detail, services.store(), services.gateway(), services.stripe_events(), services.risk_checks()
    )


handler = subscriber(StripeBusEvent, handle)
