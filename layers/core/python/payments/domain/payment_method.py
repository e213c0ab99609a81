"""Saved payment methods (pure): what we keep of a Stripe PaymentMethod, never a card number, and the
events saving and deleting one publish.

Off-session use (merchant-initiated payments such as renewals) needs the customer's consent, recorded
at Stripe by a SetupIntent with `usage=off_session` when the method is saved; its setup may ask the
customer to authenticate first. Only a method whose setup succeeded is charged off-session.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from payments.domain.card import Card
from payments.domain.errors import BadRequest, Conflict, ProviderRejected
from payments.domain.events import DomainEvent, EventType, PaymentMethodData


@dataclass(frozen=True)
class StripePaymentMethod:
    """What we need from a Stripe PaymentMethod, free of SDK types."""

    id: str
    type: str
    customer: str | None  # the Stripe customer it is attached to, if any
    card: Card | None = None
    # The card's issuer identification number (BIN), which Stripe documents as internal and returns only
    # where it makes it available; the risk checks' BIN blocklist needs it. Never kept with the card.
    iin: str | None = None


Usage = Literal["on_session", "off_session"]
# A setup that can no longer succeed: saving again starts a new one.
SETUP_ENDED = frozenset({"requires_payment_method", "canceled"})


@dataclass(frozen=True)
class SetupSnapshot:
    """What we need from a Stripe SetupIntent, free of SDK types."""

    id: str
    status: str  # Stripe's SetupIntent status
    client_secret: str | None = None
    next_action: dict[str, Any] | None = None
    failure_code: str | None = None
    failure_message: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"


@dataclass(frozen=True)
class SavedPaymentMethod:
    id: str
    customer_id: str
    stripe_customer_id: str
    type: str
    created_at: str
    card: Card | None = None
    off_session: bool = False  # its off-session setup succeeded: it may be charged off-session
    setup_intent_id: str | None = None  # the latest SetupIntent asking for off-session use

    @property
    def usage(self) -> Usage:
        return "off_session" if self.off_session else "on_session"

    def with_setup(self, setup: SetupSnapshot) -> SavedPaymentMethod:
        """The method as its off-session setup at Stripe now stands."""
        return dataclasses.replace(self, off_session=setup.succeeded, setup_intent_id=setup.id)

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


def ensure_chargeable_off_session(saved: SavedPaymentMethod | None) -> None:
    """An off-session charge takes one of the customer's saved methods, set up for off-session use
    (their consent, which card networks require for merchant-initiated payments)."""
    if saved is None:
        raise BadRequest(
            "saved_payment_method_required",
            "an off-session payment charges one of the customer's saved payment methods",
            param="payment_method_id",
        )
    if not saved.off_session:
        raise BadRequest(
            "payment_method_not_set_up_for_off_session",
            "this payment method was not saved for off-session use: save it with usage off_session "
            "(the customer may have to authenticate once)",
            param="payment_method_id",
        )
