"""What we know of a payment's risk: our own decision before Stripe saw the card, Stripe Radar's
outcome on the charge, a review (ours or Stripe's) and an early fraud warning. Pure data: the checks
live in application/risk.py, the Radar mapping with the Stripe adapter.

A payment's `risk` is None until something is known; each part is filled in by its own step, so the
payment shows every decision and its reasons in one place.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

Decision = Literal["allow", "review", "block"]
# Who opened a review: our own checks (a held payment) or Stripe Radar (review.opened).
ReviewSource = Literal["rules", "stripe"]
ReviewStatus = Literal["open", "approved", "rejected", "expired"]


@dataclass(frozen=True)
class RiskReason:
    check: str  # the check that spoke: blocklist, velocity, card_testing, amount_limit, external
    code: str  # machine-readable, e.g. "blocked_card_fingerprint"
    message: str  # for the back office


@dataclass(frozen=True)
class RiskDecision:
    """Our pre-authorization decision: the strictest of the checks' decisions, with every reason."""

    decision: Decision
    reasons: tuple[RiskReason, ...] = ()
    decided_at: str = ""


@dataclass(frozen=True)
class RadarOutcome:
    """Stripe Radar's assessment of the charge (charge.outcome)."""

    risk_level: str | None = None  # normal, elevated, highest, not_assessed, unknown
    risk_score: int | None = None
    rule: str | None = None  # the Radar rule that acted, if any
    outcome_type: str | None = None  # authorized, manual_review, issuer_declined, blocked, invalid
    seller_message: str | None = None
    network_status: str | None = None


@dataclass(frozen=True)
class Review:
    source: ReviewSource
    status: ReviewStatus
    opened_at: str
    reason: str | None = None
    closed_at: str | None = None
    closed_by: str | None = None  # an admin's sub, or "stripe", or "expiry"
    stripe_review_id: str | None = None


@dataclass(frozen=True)
class FraudWarning:
    """Stripe's early fraud warning (radar.early_fraud_warning.*): the issuer reports likely fraud."""

    id: str
    fraud_type: str
    actionable: bool
    received_at: str


@dataclass(frozen=True)
class PaymentRisk:
    decision: RiskDecision | None = None
    radar: RadarOutcome | None = None
    review: Review | None = None
    fraud_warning: FraudWarning | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> PaymentRisk:
        decision = values.get("decision")
        return cls(
            decision=None
            if not decision
            else RiskDecision(
                decision=decision["decision"],
                reasons=tuple(RiskReason(**reason) for reason in decision.get("reasons") or ()),
                decided_at=decision.get("decided_at", ""),
            ),
            radar=RadarOutcome(**values["radar"]) if values.get("radar") else None,
            review=Review(**values["review"]) if values.get("review") else None,
            fraud_warning=FraudWarning(**values["fraud_warning"]) if values.get("fraud_warning") else None,
        )
