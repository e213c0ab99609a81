"""Stripe Radar: each charge's `outcome`, reviews, and early fraud warnings.

Radar assesses every charge at the risk level of its test card (cards.py) and acts by the account's
two default rules (store.Settings), both on unless turned off through the control API:

- "Block if :risk_level: = 'highest'": the charge is blocked before it reaches the issuer (outcome
  `blocked`, reason `highest_risk_level`); the always-blocked card is blocked whatever the rules.
- "Review if :risk_level: = 'elevated'" (Radar for Fraud Teams' default): the charge succeeds with
  outcome `manual_review`, and a Review opens on it (`review.opened`) until it is approved, or closed
  by a refund, a dispute or a cancellation (`review.closed`).

An early fraud warning (`radar.early_fraud_warning.created`) is the issuer reporting a charge as likely
fraud; it stays `actionable` until the charge is fully refunded or disputed (`...updated`).
"""

from __future__ import annotations

from ..cards import Decline, TestCard
from ..errors import invalid_request
from ..model import SYSTEM, Obj, Origin, apply
from ..params import String
from ..routing import Call, Route, endpoint, list_endpoint, list_matching
from ..store import Settings, Store
from . import payment_methods

EARLY_FRAUD_WARNING = "radar.early_fraud_warning"
FRAUD_TYPES = (
    "card_never_received",
    "fraudulent_card_application",
    "made_with_counterfeit_card",
    "made_with_lost_card",
    "made_with_stolen_card",
    "misc",
    "unauthorized_use_of_card",
)
# What the early-fraud-warning test card's issuer reports.
TEST_CARD_FRAUD_TYPE = "made_with_stolen_card"
# Stripe's `closed_reason` values; those the emulator produces are approve, refunds, disputes, cancel.
CLOSED_REASONS = (
    "acknowledged",
    "approved",
    "canceled",
    "disputed",
    "payment_never_settled",
    "redacted",
    "refunded",
    "refunded_as_fraud",
)
# Radar's scores (0-100): elevated from 65, highest from 75 by default.
_SCORES = {"normal": 32, "elevated": 70, "highest": 91}
BLOCK_RULE = "block_if_high_risk"
REVIEW_RULE = "review_if_elevated_risk"
_BLOCKED = "Stripe blocked this payment as too risky."
_IN_REVIEW = (
    "Stripe evaluated this payment as having elevated risk, and placed it in your manual review queue."
)

# A charge the default block rule stops: a card error without the issuer's word (the one recorded
# answer for the highest-risk test card is `generic_decline`; the always-blocked card says `fraudulent`).
RULE_BLOCK = Decline(
    code="card_declined",
    decline_code="generic_decline",
    message="Your card was declined.",
    seller_message=_BLOCKED,
    network_status="not_sent_to_network",
    outcome_type="blocked",
    risk_level="highest",
)


# --------------------------------------------------------------------------- outcomes


def decline_for(card: TestCard, settings: Settings) -> Decline | None:
    """Why a charge on `card` fails (the card's own decline, or Radar's block), None if it does not."""
    if card.decline is not None:
        return card.decline
    if card.risk_level == "highest" and settings.block_highest_risk:
        return RULE_BLOCK
    return None


def outcome(card: TestCard, decline: Decline | None, settings: Settings) -> Obj:
    """`charge.outcome` for a charge on `card` that failed with `decline` (None: it succeeded)."""
    level = decline.risk_level if decline is not None else card.risk_level
    result: Obj = {
        "advice_code": None,
        "network_advice_code": None,
        "network_decline_code": None,
        "network_status": "approved_by_network",
        "reason": None,
        "risk_level": level,
        "risk_score": _SCORES[level],
        "seller_message": "Payment complete.",
        "type": "authorized",
    }
    if decline is not None and decline.outcome_type == "blocked":
        result.update(
            network_status=decline.network_status,
            reason="highest_risk_level",
            seller_message=decline.seller_message,
            type="blocked",
        )
        if decline is RULE_BLOCK:
            result["rule"] = BLOCK_RULE
    elif decline is not None:
        result.update(
            network_status=decline.network_status,
            reason=decline.decline_code,
            seller_message=decline.seller_message,
            type=decline.outcome_type,
        )
    elif level == "elevated" and settings.review_elevated_risk:
        result.update(
            reason="elevated_risk_level", rule=REVIEW_RULE, seller_message=_IN_REVIEW, type="manual_review"
        )
    return result


# --------------------------------------------------------------------------- reviews


def attach_review(store: Store, charge: Obj, intent: Obj) -> Obj | None:
    """A charge Radar put in review gets its Review (the caller emits `review.opened` once the
    charge's own event is out); None for any other charge."""
    if charge["outcome"]["type"] != "manual_review":
        return None
    address = charge["billing_details"].get("address") or {}
    review = store.create(
        "review",
        {
            "billing_zip": address.get("postal_code"),
            "charge": charge["id"],
            "closed_reason": None,
            "ip_address": None,
            "ip_address_location": None,
            "open": True,
            "opened_reason": "rule",
            "payment_intent": intent["id"],
            "reason": "rule",
            "session": None,
        },
    )
    charge["review"] = intent["review"] = review["id"]
    return review


def close_review(store: Store, review: Obj, reason: str, origin: Origin) -> None:
    if not review["open"]:
        raise invalid_request(
            f"This review is already closed (reason: {review['closed_reason']}).", param="review"
        )
    previous = apply(review, {"closed_reason": reason, "open": False, "reason": reason})
    store.emit("review.closed", review, origin, previous)


def close_open_review(store: Store, charge: Obj, reason: str, origin: Origin) -> None:
    """What settles a charge in review closes its review: a refund, a dispute, a cancellation."""
    review = store.find(charge.get("review") or "")
    if review is not None and review["open"]:
        close_review(store, review, reason, origin)


# --------------------------------------------------------------------------- early fraud warnings


def actionable(charge: Obj) -> bool:
    """Stripe: "actionable if it has not received a dispute and has not been fully refunded"."""
    return not charge["disputed"] and not charge["refunded"]


def warn(store: Store, charge: Obj, fraud_type: str, origin: Origin) -> Obj:
    """The issuer reports the charge as likely fraud: an EarlyFraudWarning and its event."""
    if charge["status"] != "succeeded":
        raise invalid_request(
            f"Charge {charge['id']} did not succeed; there is nothing to warn about.", param="charge"
        )
    if any(efw["charge"] == charge["id"] for efw in store.all(EARLY_FRAUD_WARNING)):
        raise invalid_request(f"Charge {charge['id']} already has an early fraud warning.", param="charge")
    warning = store.create(
        EARLY_FRAUD_WARNING,
        {
            "actionable": actionable(charge),
            "charge": charge["id"],
            "fraud_type": fraud_type,
            "payment_intent": charge["payment_intent"],
        },
    )
    store.emit(f"{EARLY_FRAUD_WARNING}.created", warning, origin)
    return warning


def warn_if_card_warns(store: Store, charge: Obj) -> None:
    """`pm_card_createIssuerFraudRecord`: the warning comes as soon as the money moves."""
    payment_method = store.find(charge["payment_method"])
    if payment_method is not None and payment_methods.test_card(payment_method).early_fraud_warning:
        warn(store, charge, TEST_CARD_FRAUD_TYPE, SYSTEM)


def charge_settled(store: Store, charge: Obj, origin: Origin) -> None:
    """A charge refunded in full or disputed: its warnings are no longer actionable (`...updated`)."""
    if actionable(charge):
        return
    for warning in store.all(EARLY_FRAUD_WARNING):
        if warning["charge"] == charge["id"] and warning["actionable"]:
            previous = apply(warning, {"actionable": False})
            store.emit(f"{EARLY_FRAUD_WARNING}.updated", warning, origin, previous)


# --------------------------------------------------------------------------- endpoints


def _retrieve_review(call: Call) -> Obj:
    return call.store.get("review", call.path["review"], param="review")


def _list_open_reviews(call: Call) -> Obj:
    """Stripe lists the reviews that are still open."""
    return list_matching(call, "review", (), {"open": True})


def _approve(call: Call) -> Obj:
    review = _retrieve_review(call)
    close_review(call.store, review, "approved", call.origin)
    return review


def _retrieve_warning(call: Call) -> Obj:
    return call.store.get(EARLY_FRAUD_WARNING, call.path["early_fraud_warning"], param="early_fraud_warning")


_WARNINGS = "/v1/radar/early_fraud_warnings"
ROUTES: list[Route] = [
    list_endpoint("/v1/reviews", "review", handler=_list_open_reviews),
    endpoint("GET", "/v1/reviews/{review}", _retrieve_review, "review"),
    endpoint("POST", "/v1/reviews/{review}/approve", _approve, "review"),
    list_endpoint(_WARNINGS, EARLY_FRAUD_WARNING, {"charge": String(), "payment_intent": String()}),
    endpoint("GET", f"{_WARNINGS}/{{early_fraud_warning}}", _retrieve_warning, EARLY_FRAUD_WARNING),
]
