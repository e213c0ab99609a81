"""Stripe Radar's reviews and early fraud warnings over the official SDK, read with their PaymentIntent
expanded: its metadata holds our payment id, so one read says both what Stripe has and whose it is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from payments.adapters.stripe.client import StripeAdapter
from payments.adapters.stripe.gateway import translate
from payments.adapters.stripe.objects import get, id_of, metadata_of
from payments.domain.fraud_signals import StripeFraudWarning, StripeReview

_EXPAND = {"expand": ["payment_intent"]}


class StripeRadar(StripeAdapter):
    def review(self, review_id: str) -> StripeReview | None:
        found = _unless_missing(lambda: self._stripe.v1.reviews.retrieve(review_id, params=_EXPAND))
        if found is None:
            return None
        intent = get(found, "payment_intent")
        return StripeReview(
            id=str(get(found, "id")),
            open=bool(get(found, "open")),
            reason=str(get(found, "reason")),
            created=int(get(found, "created") or 0),
            payment_intent_id=id_of(intent),
            payment_id=_payment_id(intent),
        )

    def early_fraud_warning(self, warning_id: str) -> StripeFraudWarning | None:
        found = _unless_missing(
            lambda: self._stripe.v1.radar.early_fraud_warnings.retrieve(warning_id, params=_EXPAND)
        )
        if found is None:
            return None
        intent = get(found, "payment_intent")
        return StripeFraudWarning(
            id=str(get(found, "id")),
            fraud_type=str(get(found, "fraud_type")),
            actionable=bool(get(found, "actionable")),
            charge_id=id_of(get(found, "charge")),
            payment_intent_id=id_of(intent),
            payment_id=_payment_id(intent),
            intent_status=None if intent is None or isinstance(intent, str) else get(intent, "status"),
        )


def _payment_id(intent: Any) -> str | None:
    """Our payment id from an expanded PaymentIntent (None: not one of ours, or no intent)."""
    return None if intent is None or isinstance(intent, str) else metadata_of(intent).get("payment_id")


def _unless_missing(call: Callable[[], Any]) -> Any:
    """Stripe's object, or None when Stripe has no such object (an id it never issued)."""
    import stripe

    try:
        return call()
    except stripe.InvalidRequestError as error:
        if getattr(error, "code", None) == "resource_missing":
            return None
        raise translate(error) from error
    except stripe.StripeError as error:
        raise translate(error) from error
