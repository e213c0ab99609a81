"""EventBridge (source stripe): charge.dispute.* -> the payment's dispute, ChargebackReceived,
DisputeUpdated and DisputeClosed, then the dispute's record (the admins' read model)."""

from payments import services
from payments.application.disputes import DisputeOutcome, apply_dispute_event
from payments.subscriber import StripeBusEvent, subscriber


def handle(event: StripeBusEvent) -> DisputeOutcome:
    return apply_dispute_event(
        event.detail,
        services.store(),
        services.gateway(),
        services.stripe_events(),
        services.dispute_records(),
    )


handler = subscriber(StripeBusEvent, handle)
