"""ProcessPayment: check the attempt, write the payment ahead of Stripe, then charge, then record
Stripe's answer.

Crash-safety: the payment id derives from the caller and their Idempotency-Key and the Stripe
idempotency key derives from the payment id, so every retry (after a crash before, during or after the
Stripe call) finds the same payment and gets the same PaymentIntent back. No path charges twice.

The checks before Stripe (application/risk.py) run once per payment: their decision is written with
the payment, so a retry finds it and neither checks nor counts again. A blocked payment is recorded
(PaymentInitiated, then PaymentBlocked, which frees the order) and never reaches Stripe; one to review is
only authorized (manual capture) and held once Stripe authorizes it (domain/payment.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from payments.application.clock import now
from payments.application.commit import Store
from payments.application.payment_intents import adopt, record_intent
from payments.application.ports import (
    Attempt,
    BeforePayment,
    PaymentGateway,
    PaymentStart,
    PreAuthorization,
)
from payments.domain.errors import (
    BadRequest,
    CardDeclined,
    ConcurrentUpdate,
    IdempotencyKeyReused,
    NotFound,
    PaymentBlocked,
    PaymentsError,
    ProviderRejected,
)
from payments.domain.events import DomainEvent
from payments.domain.ids import payment_id_for
from payments.domain.money import Money
from payments.domain.payment import CaptureMethod, Change, Failure, Payment, PaymentStatus
from payments.domain.payment_method import ensure_chargeable_off_session
from payments.domain.risk import BLOCKED_CODE, CardFacts, PaymentRisk, RiskDecision, customer_reasons
from payments.observability import count

logger = logging.getLogger(__name__)

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
    # API Gateway's requestContext.identity.sourceIp when the customer pays themselves (the client
    # cannot set it); None when a service or an admin pays for them.
    source_ip: str | None = None
    # Merchant-initiated (a renewal): only a saved method set up for it (domain/payment_method.py).
    off_session: bool = False


def process_payment(
    command: ProcessPayment,
    store: Store,
    gateway: PaymentGateway,
    start: PaymentStart,
    risk: PreAuthorization,
) -> Payment:
    payment_id = payment_id_for(command.customer_id, command.idempotency_key)
    with store.batch() as batch:  # PaymentInitiated and Stripe's outcome in one PutEvents
        # Read first, the earlier attempt with the method: the checks count the attempt, so they run
        # only for a payment that does not exist yet.
        before = start.before_payment(payment_id, command.customer_id, command.payment_method_id)
        payment, resumed = before.earlier, True
        if payment is None:
            if command.off_session:
                ensure_chargeable_off_session(before.saved)
            created = batch.create(
                _start(payment_id, command, before, _assess(payment_id, command, before, risk))
            )
            payment, resumed = created or _earlier_attempt(payment_id, batch), created is None
        if payment.request_hash != command.request_hash:
            # The idempotency record expired but the payment it created did not: still the same key.
            raise IdempotencyKeyReused(
                "this Idempotency-Key was used for a different request", payment_id=payment.id
            )
        if payment.status is PaymentStatus.PENDING:
            if is_blocked(payment):
                payment = block(payment, batch)
            else:
                payment = _charge(payment, batch, gateway, resumed=resumed)
    _count_decline(payment, risk)
    raise_if_failed(payment)
    return payment


def is_blocked(payment: Payment) -> bool:
    """Our checks blocked it: it must never reach Stripe."""
    decision = payment.risk.decision if payment.risk else None
    return decision is not None and decision.decision == "block"


def block(payment: Payment, store: Store) -> Payment:
    """Record a blocked payment as failed (PaymentBlocked frees its order), telling the customer only
    what they may know of the reasons."""
    assert payment.risk is not None
    assert payment.risk.decision is not None
    message = "; ".join(message for _, message in customer_reasons(payment.risk.decision))
    change = store.committed_change(payment.id, lambda current: current.block(message, now()), known=payment)
    if change is not None:
        count("RiskBlocked")
        return change.payment
    return store.payments.get(payment.id) or payment


def _assess(
    payment_id: str, command: ProcessPayment, before: BeforePayment, risk: PreAuthorization
) -> RiskDecision:
    owner = before.owner
    if before.saved is None and owner is not None and owner.customer_id != command.customer_id:
        # Someone else's saved card: answer as if it did not exist (no existence oracle).
        raise NotFound("payment method not found", param="payment_method_id")
    saved_card = None
    if before.saved is not None:
        card = before.saved.card
        saved_card = CardFacts() if card is None else CardFacts(card.fingerprint, card.country)
    return risk.assess(
        Attempt(
            payment_id=payment_id,
            customer_id=command.customer_id,
            amount=command.money.amount,
            currency=command.money.currency,
            payment_method_id=command.payment_method_id,
            source_ip=command.source_ip,
            saved_card=saved_card,
        )
    )


def _count_decline(payment: Payment, risk: PreAuthorization) -> None:
    """Count a decline now; should that fail, Stripe's payment_failed webhook counts it (once). The
    payment's answer never depends on it."""
    try:
        risk.record_decline(payment)
    except Exception:
        logger.warning("payment %s: decline not counted yet", payment.id, exc_info=True)


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


def _start(payment_id: str, command: ProcessPayment, before: BeforePayment, decision: RiskDecision) -> Change:
    owner = before.saved or before.owner
    at = now()
    payment = Payment(
        id=payment_id,
        order_id=command.order_id,
        customer_id=command.customer_id,
        amount=command.money.amount,
        currency=command.money.currency,
        payment_method_id=command.payment_method_id,
        # A payment to review is only authorized: it is held until an admin decides.
        capture_method="manual" if decision.decision == "review" else command.capture_method,
        created_at=at,
        updated_at=at,
        version=1,
        description=command.description,
        metadata=dict(command.metadata),
        request_hash=command.request_hash,
        stripe_customer_id=owner.stripe_customer_id if owner else None,
        return_url=command.return_url,
        risk=PaymentRisk(decision=decision),
        off_session=command.off_session,
    )
    return Change(payment, DomainEvent.about(payment, "PaymentInitiated", at))


def raise_if_failed(payment: Payment) -> None:
    """A failed attempt is kept (history) and answered as an error that names it."""
    if payment.status is not PaymentStatus.FAILED or payment.failure is None:
        return
    failure = payment.failure
    error: PaymentsError
    if failure.code == BLOCKED_CODE and payment.risk is not None and payment.risk.decision is not None:
        reasons = [code for code, _ in customer_reasons(payment.risk.decision)]
        error = PaymentBlocked(failure.message, payment_id=payment.id, reasons=reasons)
    elif failure.code in INVALID_REQUEST_FAILURES:
        error = BadRequest(failure.code, failure.message, param="payment_method_id", payment_id=payment.id)
    else:
        error = CardDeclined(
            failure.message,
            decline_code=failure.decline_code,
            payment_id=payment.id,
            failure_code=failure.code,
        )
    raise error
