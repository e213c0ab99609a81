"""The ports the use cases depend on. Adapters implement them over DynamoDB, Stripe and EventBridge;
unit tests implement them in memory."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from payments.domain.events import DomainEvent
from payments.domain.payment import Change, IntentSnapshot, Payment


@dataclass(frozen=True)
class Page:
    items: list[Payment]
    next_key: dict[str, Any] | None  # the store's own continuation key; the HTTP layer signs it


@dataclass(frozen=True)
class MethodOwner:
    customer_id: str
    stripe_customer_id: str


@dataclass(frozen=True)
class TransactItem:
    """An extra write that must commit atomically with a payment change (e.g. a refund record)."""

    operation: dict[str, Any]  # one TransactWriteItems element, already in the store's wire format


class PaymentRepository(Protocol):
    def get(self, payment_id: str) -> Payment | None: ...

    def create(self, change: Change) -> None:
        """Insert a new payment with its first event and claim its order (raises on conflicts)."""

    def save(self, change: Change, extra: Sequence[TransactItem] = ()) -> None:
        """Commit `change` if the stored version is still `change.payment.version - 1`."""

    def history(self, payment_id: str) -> list[DomainEvent]: ...

    def list_by_customer(self, customer_id: str, limit: int, start: dict[str, Any] | None) -> Page: ...

    def list_by_status(self, status: str, limit: int, start: dict[str, Any] | None) -> Page: ...

    def mark_published(self, events: Sequence[DomainEvent]) -> None: ...

    def unpublished(self, older_than: str, limit: int) -> list[DomainEvent]: ...


class PaymentGateway(Protocol):
    def create_intent(self, payment: Payment) -> IntentSnapshot: ...

    def retrieve_intent(self, intent_id: str) -> IntentSnapshot: ...

    def capture_intent(self, payment: Payment) -> IntentSnapshot: ...

    def cancel_intent(self, payment: Payment) -> IntentSnapshot: ...


class EventPublisher(Protocol):
    def publish(self, events: Sequence[DomainEvent]) -> None:
        """Deliver every event or raise; partial failures raise too."""


class PaymentMethodOwners(Protocol):
    def owner_of(self, payment_method_id: str) -> MethodOwner | None:
        """Who saved this Stripe payment method with us, if anyone."""
