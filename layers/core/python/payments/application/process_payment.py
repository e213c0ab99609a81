"""ProcessPayment: write the payment ahead of Stripe, then charge, then record Stripe's answer.

Crash-safety: the payment id derives from the caller and their Idempotency-Key and the Stripe
idempotency key derives from the payment id, so every retry (after a crash before, during or after the
Stripe call) finds the same payment and gets the same PaymentIntent back. No path charges twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from payments.application.clock import now
from payments.application.commit import Store
from payments.application.payment_intents import adopt, record_intent
from payments.application.ports import PaymentGateway, PaymentMethodOwners
from payments.domain.errors import (
    BadRequest,
    CardDeclined,
    ConcurrentUpdate,
    IdempotencyKeyReused,
    NotFound,
    PaymentsError,
    ProviderRejected,
)
from payments.domain.events import DomainEvent
from payments.domain.ids import payment_id_for
from payments.domain.money import Money
from payments.domain.payment import CaptureMethod, Change, Failure, Payment, PaymentStatus

# Failure codes that mean "the request was wrong", not "the bank said no".
INVALID_REQUEST_FAILURES = frozenset({"payment_method_invalid", "invalid_request", "amount_too_small"})


@dataclass(frozen=True)
class ProcessPayment:
    customer_id: str
    idempotency_key: str
    request_hash: str
    order_id: str
    money: Money
    payment_method_id: str
    capture_method: CaptureMethod = "automatic"
    description: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    return_url: str | None = None


def process_payment(
    command: ProcessPayment, store: Store, gateway: PaymentGateway, methods: PaymentMethodOwners
) -> Payment:
    payment_id = payment_id_for(command.customer_id, command.idempotency_key)
    with store.batch() as batch:  # PaymentInitiated and Stripe's outcome in one PutEvents
        # Create first: its condition detects an earlier attempt, so a read is needed only then.
        created = batch.create(_start(payment_id, command, methods))
        payment = created or _earlier_attempt(payment_id, batch)
        if payment.request_hash != command.request_hash:
            # The idempotency record expired but the payment it created did not: still the same key.
            raise IdempotencyKeyReused(
                "this Idempotency-Key was used for a different request", payment_id=payment.id
            )
        if payment.status is PaymentStatus.PENDING:
            payment = _charge(payment, batch, gateway, resumed=created is None)
    raise_if_failed(payment)
    return payment


def _charge(payment: Payment, store: Store, gateway: PaymentGateway, *, resumed: bool) -> Payment:
    if resumed:
        # An earlier attempt may have reached Stripe, which forgets idempotency keys after about a
        # day: adopt the intent that names the payment before creating one.
        found = gateway.find_intents(payment)
        if found:
            return adopt(store, payment, found, gateway)
    try:
        intent = gateway.create_intent(payment)
    except (ProviderRejected, CardDeclined) as refused:
        # Stripe refused the request itself (or declined before any intent existed), so nothing is in
        # flight there: close the attempt and release the order.
        failure = Failure(
            str(refused.extra.get("failure_code") or refused.code),
            refused.detail,
            refused.extra.get("decline_code"),
        )
        return store.update(payment.id, lambda current: current.fail(failure, now()), known=payment)
    return record_intent(store, payment, intent, gateway)


def _earlier_attempt(payment_id: str, store: Store) -> Payment:
    payment = store.payments.get(payment_id)
    if payment is None:  # created, then gone: never happens (payments are not deleted)
        raise ConcurrentUpdate("the payment could not be created; retry", payment_id=payment_id)
    return payment


def _start(payment_id: str, command: ProcessPayment, methods: PaymentMethodOwners) -> Change:
    owner = methods.owner_of(command.payment_method_id)
    if owner is not None and owner.customer_id != command.customer_id:
        # Someone else's saved card: answer as if it did not exist (no existence oracle).
        raise NotFound("payment method not found", param="payment_method_id")
    at = now()
    payment = Payment(
        id=payment_id,
        order_id=command.order_id,
        customer_id=command.customer_id,
        amount=command.money.amount,
        currency=command.money.currency,
        payment_method_id=command.payment_method_id,
        capture_method=command.capture_method,
        created_at=at,
        updated_at=at,
        version=1,
        description=command.description,
        metadata=dict(command.metadata),
        request_hash=command.request_hash,
        stripe_customer_id=owner.stripe_customer_id if owner else None,
        return_url=command.return_url,
    )
    return Change(payment, DomainEvent.about(payment, "PaymentInitiated", at))


def raise_if_failed(payment: Payment) -> None:
    """A failed attempt is kept (history) and answered as an error that names it."""
    if payment.status is not PaymentStatus.FAILED or payment.failure is None:
        return
    failure = payment.failure
    error: PaymentsError
    if failure.code in INVALID_REQUEST_FAILURES:
        error = BadRequest(failure.code, failure.message, param="payment_method_id", payment_id=payment.id)
    else:
        error = CardDeclined(
            failure.message,
            decline_code=failure.decline_code,
            payment_id=payment.id,
            failure_code=failure.code,
        )
    raise error
