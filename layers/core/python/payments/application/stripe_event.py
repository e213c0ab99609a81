"""A Stripe event as the webhook forwards it: the webhook's body, and the `detail` of `stripe` bus events."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from payments.application.ports import StripeEventSource

# Set on a copy the webhook had to slim to fit the bus; subscribers fetch the whole event from Stripe.
SLIMMED = "payments_slimmed"


class StripeEventData(BaseModel):
    model_config = ConfigDict(extra="allow")

    object: dict[str, Any]
    previous_attributes: dict[str, Any] | None = None


class StripeEvent(BaseModel):
    """A Stripe event (its envelope validated; the object is read by each use case)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    id: str = Field(pattern=r"^evt_\w+$")
    object: Literal["event"]
    type: str = Field(min_length=1)
    created: int
    livemode: bool
    api_version: str | None = None
    data: StripeEventData
    slimmed: bool = Field(False, alias=SLIMMED)


def full_object(event: StripeEvent, source: StripeEventSource) -> dict[str, Any]:
    """The event's object, fetched from Stripe when the bus carried a slimmed copy."""
    if not event.slimmed:
        return event.data.object
    return StripeEvent.model_validate(source.retrieve_event(event.id)).data.object
