"""Commit a payment change, then publish its event (the outbox relay covers a failed publish)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from payments.application.ports import EventPublisher, PaymentRepository, RefundWrite
from payments.domain.errors import ConcurrentUpdate, EventsUnavailable, NotFound
from payments.domain.events import DomainEvent
from payments.domain.payment import Change, Payment

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 4


def publish_or_fail(publisher: EventPublisher, event: DomainEvent) -> None:
    """Publish the event of a change stored without an outbox, or fail the request (503): idempotency
    keeps no 5xx, so the client's retry with the same key finds the change stored and publishes the
    same event (same id) again, which subscribers dedupe."""
    try:
        publisher.publish([event])
    except Exception as error:
        logger.warning("publishing %s failed; the client's retry publishes it", event.event_id, exc_info=True)
        raise EventsUnavailable(
            "the change is stored but its event could not be published; retry with the same Idempotency-Key"
        ) from error


@dataclass
class Store:
    payments: PaymentRepository
    publisher: EventPublisher
    held: list[DomainEvent] | None = None  # inside batch(): committed, published when it ends

    @contextmanager
    def batch(self) -> Iterator[Store]:
        """A store whose committed events go out together, in one PutEvents, when the block ends
        (also when it raises: what was committed is announced)."""
        batch = Store(self.payments, self.publisher, held=[])
        try:
            yield batch
        finally:
            self.publish_after_commit(batch.held or [])

    def publish_after_commit(self, events: Sequence[DomainEvent]) -> None:
        """Best effort: a failure leaves the events marked unpublished for the outbox relay."""
        if self.held is not None:
            self.held.extend(events)
            return
        if not events:
            return
        try:
            self.publisher.publish(events)
        except Exception:
            logger.warning("publish failed; the outbox relay will retry", exc_info=True)
            return
        self.payments.mark_published(events)

    def create(self, change: Change) -> Payment | None:
        """The new payment, or None when one with its id exists already (an earlier attempt)."""
        if not self.payments.create(change):
            return None
        self.publish_after_commit([change.event])
        return change.payment

    def save(self, change: Change, refunds: Sequence[RefundWrite] = ()) -> Payment:
        self.payments.save(change, refunds)
        self.publish_after_commit([change.event])
        return change.payment

    def update(
        self,
        payment_id: str,
        decide: Callable[[Payment], Change | None],
        *,
        known: Payment | None = None,
    ) -> Payment:
        """Read, decide, commit; on a lost optimistic-lock race read again and decide again.

        `decide` is pure and may return None when the payment already reflects the news, which is how
        duplicates and late arrivals become no-ops. `known` is the payment as the caller last read or
        wrote it: the first decision is made on it without a read, and the version check on the
        commit tells whether it was still current.
        """
        for _attempt in range(MAX_ATTEMPTS):
            payment = known if known is not None else self.payments.get(payment_id)
            known = None  # after a lost race the payment has moved on: read it
            if payment is None:
                raise NotFound(f"payment {payment_id} not found", payment_id=payment_id)
            change = decide(payment)
            if change is None:
                return payment
            try:
                return self.save(change)
            except ConcurrentUpdate:
                continue
        raise ConcurrentUpdate(
            f"payment {payment_id} kept changing; retry the request", payment_id=payment_id
        )

    def committed_change(
        self, payment_id: str, decide: Callable[[Payment], Change | None], *, known: Payment | None = None
    ) -> Change | None:
        """`update`, telling which change (if any) was committed: the last decision is the one that
        stuck (a lost optimistic-lock race decides again on the fresh payment)."""
        decided: list[Change | None] = [None]

        def remember(current: Payment) -> Change | None:
            decided[0] = decide(current)
            return decided[0]

        self.update(payment_id, remember, known=known)
        return decided[0]
