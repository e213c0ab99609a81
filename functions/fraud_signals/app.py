"""EventBridge (source stripe): review.* and radar.early_fraud_warning.* -> the payment's risk
(PaymentReviewOpened, PaymentReviewClosed, FraudWarningReceived) and the refund a warning calls for."""

from payments import services
from payments.application.fraud_signals import FraudSignalOutcome, FraudSignals
from payments.subscriber import StripeBusEvent, subscriber


def handle(event: StripeBusEvent) -> FraudSignalOutcome:
    signals = FraudSignals(
        services.store(), services.refunds(), services.gateway(), services.radar(), services.risk_policy()
    )
    return signals.apply(event.detail)


handler = subscriber(StripeBusEvent, handle)
