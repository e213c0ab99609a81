"""EventBridge (source payments): money-moving domain events -> balanced entries in the ledger."""

from payments import services
from payments.application.accounting import LedgerOutcome, book
from payments.subscriber import PaymentBusEvent, subscriber


def handle(event: PaymentBusEvent) -> LedgerOutcome:
    return book(event.detail, services.ledger())


handler = subscriber(PaymentBusEvent, handle)
