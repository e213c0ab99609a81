"""Saved payment methods (pure): what we keep of a Stripe PaymentMethod, never a card number, and the
events saving and deleting one publish."""

from __future__ import annotations

from dataclasses import dataclass

from payments.domain.card import Card
from payments.domain.errors import Conflict, ProviderRejected
from payments.domain.events import DomainEvent, EventType, PaymentMethodData


@dataclass(frozen=True)
class StripePaymentMethod:
    """What we need from a Stripe PaymentMethod, free of SDK types."""

    id: str
    type: str
    customer: str | None  # the Stripe customer it is attached to, if any
    card: Card | None = None


@dataclass(frozen=True)
class SavedPaymentMethod:
    id: str
    customer_id: str
    stripe_customer_id: str
    type: str
    created_at: str
    card: Card | None = None

    @classmethod
    def attached(
        cls, method: StripePaymentMethod, customer_id: str, stripe_customer_id: str, at: str
    ) -> SavedPaymentMethod:
        return cls(method.id, customer_id, stripe_customer_id, method.type, at, method.card)

    @property
    def card_key(self) -> str | None:
        return card_key(self.card)

    def saved_event(self) -> DomainEvent:
        # Deterministic id and time: a republish (the client's retry) is the same event, deduped downstream.
        return self._event("PaymentMethodSaved", 1, self.created_at)

    def deleted_event(self, at: str) -> DomainEvent:
        return self._event("PaymentMethodDeleted", 2, at)

    def _event(self, event_type: EventType, version: int, at: str) -> DomainEvent:
        data = PaymentMethodData(payment_method_id=self.id, **(self.card or Card()).model_dump())
        return DomainEvent(
            event_id=f"{self.id}:v{version}",
            event_type=event_type,
            version=version,
            occurred_at=at,
            payment_id=None,
            order_id=None,
            customer_id=self.customer_id,
            data=data.model_dump(mode="json"),
        )


def card_key(card: Card | None) -> str | None:
    """Same card and same expiry: saving it again returns the method already saved."""
    if card is None or not card.fingerprint or card.exp_year is None or card.exp_month is None:
        return None
    return f"{card.fingerprint}#{card.exp_year:04d}-{card.exp_month:02d}"


class SameCardSaved(Conflict):
    """This card (or this very method) is saved already; `existing_id` names the saved method."""

    def __init__(self, existing_id: str) -> None:
        super().__init__("payment_method_exists", "this card is already saved")
        self.existing_id = existing_id


class MethodTaken(Conflict):
    """Another customer saved this payment method."""

    def __init__(self, payment_method_id: str) -> None:
        super().__init__(
            "payment_method_taken", f"payment method {payment_method_id} belongs to someone else"
        )


def unusable_method() -> ProviderRejected:
    """The answer for a method that does not exist and for one that is someone else's alike, so the
    answer tells nothing about other customers' cards."""
    return ProviderRejected("payment_method_invalid", "no such payment method", param="payment_method_id")
