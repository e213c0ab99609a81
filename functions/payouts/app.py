"""EventBridge (source stripe): payout.* -> our payout record and PayoutCreated, PayoutPaid,
PayoutFailed and PayoutCanceled, which the accounting subscriber books."""

from payments import services
from payments.application.payouts import PayoutOutcome, apply_payout_event
from payments.subscriber import StripeBusEvent, subscriber


def handle(event: StripeBusEvent) -> PayoutOutcome:
    return apply_payout_event(
        event.detail, services.payouts(), services.publisher(), services.stripe_events()
    )


handler = subscriber(StripeBusEvent, handle)
