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
    # the check that spoke: blocklist, velocity, card_testing, amount_limit, review_rules, external
    check: str
    code: str  # machine-readable, e.g. "blocked_card_fingerprint"
    message: str  # for the back office
    decision: Decision | None = None  # what this reason asked for (the payment's is the strictest)


@dataclass(frozen=True)
class CardFacts:
    """What the checks know of the card, never its number. `bin` only where Stripe names the card's
    IIN (`card.iin`, which Stripe documents as internal and rarely returns)."""

    fingerprint: str | None = None
    country: str | None = None
    bin: str | None = None


@dataclass(frozen=True)
class RiskFacts:
    """What a decision was made on (the back office's view, never the customer's): whom the velocity
    counters counted, and the UTC day whose total holds the amount (a decline gives it back)."""

    customer_id: str
    source_ip: str | None = None
    card: CardFacts | None = None
    day_total: str | None = None  # YYYY-MM-DD; None: the amount is in no day total


@dataclass(frozen=True)
class RiskDecision:
    """Our pre-authorization decision: the strictest of the checks' decisions, with every reason."""

    decision: Decision
    reasons: tuple[RiskReason, ...] = ()
    decided_at: str = ""
    facts: RiskFacts | None = None


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

    # ------------------------------------------------------------------ our review hold

    @property
    def awaits_hold(self) -> bool:
        """Our checks asked for a review and our hold is not open yet: the authorization is held. Ours
        takes the review's place even over Stripe's (a webhook first): ours decides the capture."""
        review = self.review
        held_before = review is not None and review.source == "rules"
        return self.decision is not None and self.decision.decision == "review" and not held_before

    @property
    def held(self) -> bool:
        """Our review is open: only an admin's capture (approve) or cancel (reject), or its expiry,
        decides it."""
        return self.review is not None and self.review.source == "rules" and self.review.status == "open"

    @property
    def hold_refused(self) -> bool:
        """Our review rejected or expired the payment: it may only be canceled now."""
        review = self.review
        return review is not None and review.source == "rules" and review.status in ("rejected", "expired")

    def with_hold(self, at: str) -> PaymentRisk:
        reasons = self.decision.reasons if self.decision else ()
        reason = ", ".join(sorted({r.code for r in reasons})) or None
        return dataclasses.replace(self, review=Review("rules", "open", at, reason=reason))

    def with_hold_closed(self, status: ReviewStatus, by: str, at: str) -> PaymentRisk:
        assert self.review is not None
        return dataclasses.replace(
            self, review=dataclasses.replace(self.review, status=status, closed_at=at, closed_by=by)
        )

    # ------------------------------------------------------------------ the customer's view

    def for_customer(self) -> dict[str, Any]:
        """What the customer is shown: our decision in their terms and the review's status, never which
        list, rule, threshold or score spoke, nor what Stripe's screening found."""
        decision, review = self.decision, self.review
        return {
            "decision": None
            if decision is None
            else {
                "decision": decision.decision,
                "reasons": [{"code": code, "message": text} for code, text in customer_reasons(decision)],
                "decided_at": decision.decided_at,
            },
            "review": None
            if review is None
            else {"status": review.status, "opened_at": review.opened_at, "closed_at": review.closed_at},
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> PaymentRisk:
        decision = values.get("decision")
        facts = (decision or {}).get("facts")
        card = (facts or {}).get("card")
        return cls(
            decision=None
            if not decision
            else RiskDecision(
                decision=decision["decision"],
                reasons=tuple(RiskReason(**reason) for reason in decision.get("reasons") or ()),
                decided_at=decision.get("decided_at", ""),
                facts=None
                if not facts
                else RiskFacts(**{**facts, "card": CardFacts(**card) if card else None}),
            ),
            radar=RadarOutcome(**values["radar"]) if values.get("radar") else None,
            review=Review(**values["review"]) if values.get("review") else None,
            fraud_warning=FraudWarning(**values["fraud_warning"]) if values.get("fraud_warning") else None,
        )


# What a customer is told of our reasons. Limits they can act on are named (wait, pay less); every other
# check answers one generic reason, so a blocklist, a card-testing guard or a rule cannot be probed.
BLOCKED_CODE = "payment_blocked"
_CUSTOMER_BLOCK_REASONS: dict[str, tuple[str, str]] = {
    "velocity": ("too_many_attempts", "Too many payment attempts; try again later"),
    "amount_limit": ("amount_over_limit", "The amount is over what can be paid at once or today"),
}
_DECLINED = ("declined_by_risk_checks", "The payment cannot be accepted")
_UNDER_REVIEW = ("under_review", "The payment is authorized and being reviewed before it is captured")


def customer_reasons(decision: RiskDecision) -> tuple[tuple[str, str], ...]:
    """The decision's reasons in the customer's terms: (code, message) pairs, each once."""
    if decision.decision == "allow":
        return ()
    if decision.decision == "review":
        return (_UNDER_REVIEW,)
    found = {
        _CUSTOMER_BLOCK_REASONS.get(reason.check, _DECLINED)
        for reason in decision.reasons
        if reason.decision in (None, "block")
    }
    return tuple(sorted(found or {_DECLINED}))
