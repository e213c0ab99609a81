"""What we keep of a card: Stripe's description of it, never its number. The one model behind a saved
payment method, its PaymentMethodSaved/Deleted events and its HTTP view."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Card(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    brand: str | None = None
    last4: str | None = None
    exp_month: int | None = None
    exp_year: int | None = None
    funding: str | None = None
    country: str | None = None
    fingerprint: str | None = None  # Stripe's: the same card number gives the same fingerprint
