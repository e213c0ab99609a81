"""RefundPayment: reserve the amount ahead of Stripe, then refund, then record Stripe's answer.

The refund id derives from the payment, the admin and their Idempotency-Key, and Stripe's key from the
refund id (`rfd_X:create`), so a retry after a crash anywhere finds the reserved refund and gets
Stripe's first answer back. No path refunds twice.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from payments.application.clock import now
from payments.application.commit import Store
from payments.application.ports import RefundGateway, RefundRepository, RefundWrite
from payments.domain.errors import (
    ConcurrentUpdate,
    Conflict,
    IdempotencyKeyReused,
    NotFound,
    ProviderRejected,
)
from payments.domain.payment import Payment
from payments.domain.refund import (
    Refund,
    RefundChange,
    RefundRequest,
    record_stripe_refund,
    refund_id_for,
    reject_refund,
    request_refund,
)

# Ten refunds of one payment at once all write its STATE item, twice each: every lost race costs a
# re-read, so allow more rounds than commit.Store does and spread them (full jitter) so they drain.
# Measured: four immediate attempts lost about half of ten concurrent refunds; this loses none.
MAX_ATTEMPTS = 16
BACKOFF_BASE_SECONDS = 0.01
BACKOFF_CAP_SECONDS = 0.3

Decide = Callable[[Payment, Refund | None], RefundChange | None]


@dataclass(frozen=True)
class RefundPayment:
    payment_id: str
    requested_by: str
    idempotency_key: str
    request_hash: str
    amount: int | None = None
    reason: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


def refund_payment(
    command: RefundPayment,
    store: Store,
    refunds: RefundRepository,
    gateway: RefundGateway,
    *,
    known: tuple[Payment | None, Refund | None] | None = None,
) -> Refund:
    """`known`: the payment and this command's refund as the caller just read them, not read again."""
    with store.batch() as batch:  # RefundRequested and Stripe's outcome in one PutEvents
        return _refund(command, batch, refunds, gateway, known)


def _refund(
    command: RefundPayment,
    store: Store,
    refunds: RefundRepository,
    gateway: RefundGateway,
    known: tuple[Payment | None, Refund | None] | None,
) -> Refund:
    refund_id = refund_id_for(command.payment_id, command.requested_by, command.idempotency_key)
    payment, refund = known if known is not None else refunds.with_payment(command.payment_id, refund_id)
    if refund is None:
        request = RefundRequest(
            refund_id=refund_id,
            amount=command.amount,
            reason=command.reason,
            metadata=command.metadata,
            requested_by=command.requested_by,
            request_hash=command.request_hash,
        )
        payment, refund = commit_refund(
            store,
            refunds,
            command.payment_id,
            refund_id,
            # A concurrent attempt with the same key may have reserved it first: keep that one.
            lambda payment, current: None if current else request_refund(payment, request, now()),
            known=(payment, None),
        )
        resumed = False
    elif refund.request_hash != command.request_hash:
        # The idempotency record expired but the refund it started did not: still the same key.
        raise IdempotencyKeyReused("this Idempotency-Key was used for a different request")
    else:
        resumed = True

    if refund.awaiting_stripe:
        assert payment is not None  # a refund exists only with its payment
        refund = ask_stripe(payment, refund, store, refunds, gateway, resumed=resumed)
    return refund


def ask_stripe(
    payment: Payment,
    refund: Refund,
    store: Store,
    refunds: RefundRepository,
    gateway: RefundGateway,
    *,
    resumed: bool,
) -> Refund:
    """Ask Stripe for the reserved refund and record its answer. A resumed refund first looks for
    what an earlier attempt did at Stripe, which forgets idempotency keys after about a day."""
    try:
        found = gateway.find_refund(payment, refund) if resumed else None
        answer = found or gateway.create_refund(payment, refund)
    except ProviderRejected as rejected:
        reason = str(rejected.extra.get("provider_code") or rejected.code)

        def release(payment: Payment, current: Refund | None) -> RefundChange | None:
            return reject_refund(payment, current, reason, now()) if current else None

        _, failed = commit_refund(store, refunds, payment.id, refund.id, release, known=(payment, refund))
        raise Conflict(
            "refund_rejected",
            "the payment provider refused the refund; its reservation is released",
            payment_id=payment.id,
            refund_id=failed.id,
            failure_reason=reason,
        ) from rejected
    _, recorded = commit_refund(
        store,
        refunds,
        payment.id,
        refund.id,
        lambda p, r: record_stripe_refund(p, r, answer, refund.id, now()),
        known=(payment, refund),
    )
    return recorded


def commit_refund(
    store: Store,
    refunds: RefundRepository,
    payment_id: str,
    refund_id: str,
    decide: Decide,
    *,
    known: tuple[Payment | None, Refund | None] | None = None,
) -> tuple[Payment, Refund]:
    """Decide on the payment and the refund as of one read, and commit both at once; on a lost race,
    read both again and decide again. Returns the payment and the refund as committed.

    `known` is the pair as the caller last read or wrote it; the first decision is made on it without a
    read (the commit's version and status conditions tell whether it was still current). Every change
    of a refund's status commits with a new payment version, so a pair read together is consistent.
    """
    for attempt in range(MAX_ATTEMPTS):
        payment, current = known if known is not None else refunds.with_payment(payment_id, refund_id)
        known = None  # after a lost race both have moved on: read them
        if payment is None:
            raise NotFound(f"payment {payment_id} not found", payment_id=payment_id)
        decision = decide(payment, current)
        if decision is None:
            if current is None:
                raise NotFound(f"refund {refund_id} not found", payment_id=payment_id)
            return payment, current
        try:
            if decision.change is None:
                assert decision.previous is not None  # a new refund always changes its payment
                refunds.save_alone(decision.refund, decision.previous)
            else:
                payment = store.save(decision.change, [RefundWrite(decision.refund, decision.previous)])
        except ConcurrentUpdate:
            _pause(attempt)
            continue
        return payment, decision.refund
    raise ConcurrentUpdate(f"payment {payment_id} kept changing; retry the request", payment_id=payment_id)


def _pause(attempt: int) -> None:
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)
    time.sleep(random.uniform(0, ceiling))  # noqa: S311 - jitter, not a secret
