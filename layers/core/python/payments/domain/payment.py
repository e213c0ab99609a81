"""The payment aggregate and its state machine (pure: no I/O, no clock of its own)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from payments.domain.errors import Conflict, ValidationFailed
from payments.domain.events import DomainEvent, EventType, StrayIntentData
from payments.domain.money import amount_problems
from payments.domain.risk import BLOCKED_CODE, PaymentRisk, RadarOutcome, ReviewStatus

CaptureMethod = Literal["automatic", "manual"]


class PaymentStatus(StrEnum):
    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"
    PROCESSING = "processing"
    REQUIRES_CAPTURE = "requires_capture"
    SUCCEEDED = "succeeded"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    FAILED = "failed"
    CANCELED = "canceled"


S = PaymentStatus
# Only forward moves. Anything else (a late or duplicated webhook, a stale retry) is ignored, which is
# what makes applying Stripe's events idempotent and order-independent.
TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    S.PENDING: frozenset(
        {S.REQUIRES_ACTION, S.PROCESSING, S.REQUIRES_CAPTURE, S.SUCCEEDED, S.FAILED, S.CANCELED}
    ),
    S.REQUIRES_ACTION: frozenset({S.PROCESSING, S.REQUIRES_CAPTURE, S.SUCCEEDED, S.FAILED, S.CANCELED}),
    S.PROCESSING: frozenset({S.REQUIRES_CAPTURE, S.SUCCEEDED, S.FAILED, S.CANCELED}),
    S.REQUIRES_CAPTURE: frozenset({S.PROCESSING, S.SUCCEEDED, S.CANCELED, S.FAILED}),
    S.SUCCEEDED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.PARTIALLY_REFUNDED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.REFUNDED: frozenset(),
    S.FAILED: frozenset(),
    S.CANCELED: frozenset(),
}
# An order may have one payment in any of these at a time (the ORDER# claim is held).
RELEASES_ORDER = frozenset({S.FAILED, S.CANCELED})
# Not PENDING: a pending payment may have reached Stripe before a crash; resuming it (same
# Idempotency-Key) settles what happened there first, then it can be canceled.
CANCELABLE = frozenset({S.REQUIRES_ACTION, S.REQUIRES_CAPTURE})
REFUNDABLE = frozenset({S.SUCCEEDED, S.PARTIALLY_REFUNDED})
# Statuses that say the money moved: an order in one of these is paid, not merely in progress.
PAID = frozenset({S.SUCCEEDED, S.PARTIALLY_REFUNDED, S.REFUNDED})

# The domain event that records arrival in each status.
_ARRIVAL_EVENT: dict[PaymentStatus, EventType] = {
    S.REQUIRES_ACTION: "PaymentRequiresAction",
    S.PROCESSING: "PaymentProcessing",
    S.REQUIRES_CAPTURE: "PaymentAuthorized",
    S.SUCCEEDED: "PaymentProcessed",
    S.FAILED: "PaymentFailed",
    S.CANCELED: "PaymentCanceled",
}


# The events of the changes that end a payment, which free its order (and only those: an ended
# payment's later changes must not touch a claim another payment may hold now).
# PaymentBlocked: our checks failed the payment before Stripe saw it.
RELEASING_EVENTS: frozenset[EventType] = frozenset(
    {*(_ARRIVAL_EVENT[s] for s in RELEASES_ORDER), "PaymentBlocked"}
)
# The event that closes our review hold in each outcome.
REVIEW_CLOSED_EVENT: dict[ReviewStatus, EventType] = {
    "approved": "PaymentReviewApproved",
    "rejected": "PaymentReviewRejected",
    "expired": "PaymentReviewExpired",
}


def can_move(current: PaymentStatus, target: PaymentStatus) -> bool:
    return target in TRANSITIONS[current]


def _with_radar(
    risk: PaymentRisk | None, intent: IntentSnapshot, charge_id: str | None
) -> PaymentRisk | None:
    """`risk` with Radar's outcome on the payment's charge (`charge_id`), None when the intent brings
    none or the one held already. A charge's outcome never changes, so this applies once in any order;
    another charge's (an earlier attempt's) is not the payment's."""
    if intent.radar is None or intent.charge_id is None or intent.charge_id != charge_id:
        return None
    current = risk or PaymentRisk()
    return None if current.radar == intent.radar else dataclasses.replace(current, radar=intent.radar)


def _canceled_by_stripe(status: PaymentStatus) -> Failure:
    """Why Stripe canceled an intent by itself (`cancellation_reason: automatic`)."""
    if status is S.REQUIRES_CAPTURE:
        return Failure("authorization_expired", "The authorization expired before it was captured")
    return Failure("canceled_by_provider", "The payment provider canceled the payment")


@dataclass(frozen=True)
class Failure:
    code: str
    message: str
    decline_code: str | None = None


@dataclass(frozen=True)
class Dispute:
    id: str
    status: str
    reason: str
    amount: int
    # What the dispute has moved in our Stripe balance so far (from its balance transactions), kept so
    # that each later event can tell the ledger only what it adds (see domain/dispute.py).
    currency: str | None = None
    amount_withdrawn: int = 0
    fee: int = 0
    amount_reinstated: int = 0
    fee_reinstated: int = 0
    # The tightest DisputeDeadlineApproaching announced (72 or 24 hours before the deadline): each once.
    deadline_notice_hours: int | None = None


# Stripe's decline code for an off-session payment whose card needs the customer to authenticate.
AUTHENTICATION_REQUIRED = "authentication_required"


@dataclass(frozen=True)
class IntentSnapshot:
    """What we need from a Stripe PaymentIntent, free of SDK types."""

    id: str
    status: str  # Stripe's PaymentIntent status
    amount_received: int = 0
    amount_capturable: int = 0
    next_action: dict[str, Any] | None = None
    client_secret: str | None = None
    failure: Failure | None = None
    charge_id: str | None = None
    fee: int | None = None  # Stripe's fee on the charge, from its balance transaction
    created: int = 0  # Stripe's creation time (epoch seconds)
    cancellation_reason: str | None = None  # "automatic": Stripe canceled it (an expired authorization)
    radar: RadarOutcome | None = None  # Radar's outcome on the charge, when Stripe's answer expanded it

    @property
    def attempt_failed(self) -> bool:
        """A confirmation failed and the intent is still open: it must be closed before we record it."""
        return self.status == "requires_payment_method"

    @property
    def holds_money(self) -> bool:
        """Stripe holds the customer's money on this intent (captured, authorized, or on its way)."""
        return self.status in ("succeeded", "requires_capture", "processing")

    @property
    def declined_for_authentication(self) -> bool:
        """Stripe declined the last attempt because the card needs the customer's authentication (what
        an off-session payment gets instead of a 3-D Secure challenge)."""
        return self.failure is not None and self.failure.code == AUTHENTICATION_REQUIRED

    @property
    def needs_authentication(self) -> bool:
        """Declined for authentication and still open: the customer can confirm it on-session."""
        return self.attempt_failed and self.declined_for_authentication


# "requires_payment_method" is absent on purpose: after a failed attempt the intent can still be
# confirmed with another card (the client_secret is at the frontend). It changes nothing here until we
# close it at Stripe (cancel); the canceled intent, carrying the attempt's failure, records FAILED.
# So failed always means that nothing can charge this payment any more.
_INTENT_STATUS: dict[str, PaymentStatus] = {
    "requires_confirmation": S.PENDING,
    "requires_action": S.REQUIRES_ACTION,
    "processing": S.PROCESSING,
    "requires_capture": S.REQUIRES_CAPTURE,
    "succeeded": S.SUCCEEDED,
    "canceled": S.CANCELED,
}


@dataclass(frozen=True)
class Payment:
    id: str
    order_id: str
    customer_id: str
    amount: int
    currency: str
    payment_method_id: str
    capture_method: CaptureMethod
    created_at: str
    updated_at: str
    status: PaymentStatus = S.PENDING
    version: int = 0
    description: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    request_hash: str = ""  # fingerprint of the creating request: a reused key with another body is refused
    stripe_customer_id: str | None = None
    stripe_payment_intent_id: str | None = None
    stripe_charge_id: str | None = None
    stripe_fee: int | None = None
    amount_captured: int = 0
    amount_refunded: int = 0
    amount_refund_pending: int = 0
    refund_count: int = 0
    dispute: Dispute | None = None
    next_action: dict[str, Any] | None = None
    client_secret: str | None = None
    failure: Failure | None = None
    return_url: str | None = None
    # Intents that name this payment but are not its own and held money (see application/payment_intents).
    stray_intents: tuple[str, ...] = ()
    # Our pre-authorization decision, Radar's outcome, reviews and fraud warnings (domain/risk.py).
    risk: PaymentRisk | None = None
    # Merchant-initiated (a renewal): the customer is not there to authenticate (domain/payment_method.py).
    off_session: bool = False

    # ------------------------------------------------------------------ behaviour

    @property
    def live(self) -> bool:
        return self.status not in RELEASES_ORDER

    @property
    def refundable_amount(self) -> int:
        return self.amount_captured - self.amount_refunded - self.amount_refund_pending

    def record(self, event_type: EventType, at: str, **changes: Any) -> Change:
        """Apply `changes`, bump the version and record the event that explains them."""
        updated = dataclasses.replace(self, **changes, version=self.version + 1, updated_at=at)
        extra: dict[str, Any] = {}
        if event_type == "PaymentFeeRecorded":
            extra["fee_recorded"] = updated.stripe_fee
        if event_type == "PaymentCaptured":
            # A partial capture: Stripe released the rest of the authorization to the customer.
            extra["amount_released"] = updated.amount - updated.amount_captured
        return Change(updated, DomainEvent.about(updated, event_type, at, **extra))

    def apply_intent(self, intent: IntentSnapshot, at: str) -> Change | None:
        """Move to what Stripe says, if that is a forward move; None when nothing changes.

        Used for Stripe's synchronous answers and for payment_intent.* webhooks alike, so the two
        paths agree and late or repeated news cannot move a payment backwards.
        """
        target = _INTENT_STATUS.get(intent.status)
        if target is S.CANCELED and intent.failure is not None and not self._waited_for_customer(intent):
            target = S.FAILED  # a failed attempt that we closed at Stripe
        if self.awaits_customer(intent):
            target = S.REQUIRES_ACTION
        if target is None or not can_move(self.status, target):
            return None
        event: EventType = _ARRIVAL_EVENT[target]
        if target is S.SUCCEEDED and self.status is S.REQUIRES_CAPTURE:
            event = "PaymentCaptured"
        changes: dict[str, Any] = {
            "status": target,
            "stripe_payment_intent_id": intent.id,
            "stripe_charge_id": intent.charge_id or self.stripe_charge_id,
            "stripe_fee": intent.fee if intent.fee is not None else self.stripe_fee,
            # Stripe's secret and next step are only meaningful while the customer has to act.
            "next_action": self._next_action(intent) if target is S.REQUIRES_ACTION else None,
            "client_secret": intent.client_secret if target is S.REQUIRES_ACTION else None,
        }
        if target is S.SUCCEEDED:
            changes["amount_captured"] = intent.amount_received
        if target is S.FAILED:
            changes["failure"] = intent.failure or Failure("payment_failed", "The payment failed")
        if target is S.CANCELED and intent.cancellation_reason == "automatic":
            changes["failure"] = _canceled_by_stripe(self.status)
        if target is S.REQUIRES_CAPTURE and self.risk is not None and self.risk.awaits_hold:
            # Our checks asked for a review: the authorization is held until it is decided.
            event = "PaymentHeldForReview"
            changes["risk"] = self.risk.with_hold(at)
        # Radar's outcome on the charge comes with the charge's first answer: carried on this event.
        with_radar = _with_radar(changes.get("risk", self.risk), intent, changes["stripe_charge_id"])
        if with_radar is not None:
            changes["risk"] = with_radar
        return self.record(event, at, **changes)

    def awaits_customer(self, intent: IntentSnapshot) -> bool:
        """An off-session attempt declined for want of the customer's authentication is not a failure:
        the intent stays open (it is not closed at Stripe) until the customer confirms it on-session."""
        return self.off_session and intent.needs_authentication

    def _waited_for_customer(self, intent: IntentSnapshot) -> bool:
        """Canceled while it waited for the customer (awaits_customer): canceled, not failed."""
        return self.off_session and intent.declined_for_authentication

    def _next_action(self, intent: IntentSnapshot) -> dict[str, Any] | None:
        if not self.awaits_customer(intent):
            return intent.next_action
        # Stripe's intent has none: what a frontend needs to bring the customer back on-session
        # (Stripe.js confirmCardPayment(client_secret, {payment_method})).
        assert intent.failure is not None  # needs_authentication
        return {
            "type": "confirm_on_session",
            "confirm_on_session": {
                "payment_method": self.payment_method_id,
                "decline_code": intent.failure.decline_code or AUTHENTICATION_REQUIRED,
                "message": intent.failure.message,
            },
        }

    def record_fee(self, intent: IntentSnapshot, at: str) -> Change | None:
        """Stripe's fee became known after the charge was recorded (asynchronous balance
        transactions): booked once, as its own entry; the charge's entry booked no fee."""
        if self.status not in PAID or self.stripe_fee is not None or intent.fee is None:
            return None
        if intent.id != self.stripe_payment_intent_id:
            return None
        return self.record("PaymentFeeRecorded", at, stripe_fee=intent.fee)

    def record_radar(self, intent: IntentSnapshot, at: str) -> Change | None:
        """Radar's outcome on the payment's charge arrived after its status did (a webhook without the
        charge came first): recorded once, as its own event."""
        if intent.id != self.stripe_payment_intent_id:
            return None
        risk = _with_radar(self.risk, intent, self.stripe_charge_id)
        return None if risk is None else self.record("RadarOutcomeRecorded", at, risk=risk)

    def release(self, fence: IntentSnapshot, failure: Failure, at: str) -> Change | None:
        """Stripe never saw the request: the fence intent that took its key is canceled, and so is
        the payment, which frees its order."""
        if not can_move(self.status, S.CANCELED) or self.status is not S.PENDING:
            return None
        return self.record(
            "PaymentCanceled", at, status=S.CANCELED, stripe_payment_intent_id=fence.id, failure=failure
        )

    def record_stray(self, intent_id: str, action: str, at: str) -> Change | None:
        """Another intent naming this payment held money: say so in the history, once."""
        if intent_id in self.stray_intents:
            return None
        updated = dataclasses.replace(
            self, stray_intents=(*self.stray_intents, intent_id), version=self.version + 1, updated_at=at
        )
        return Change(
            updated,
            DomainEvent.about(
                updated, "StrayChargeDetected", at, stray=StrayIntentData(intent_id=intent_id, action=action)
            ),
        )

    def block(self, message: str, at: str) -> Change | None:
        """Our checks blocked the payment before it reached Stripe (its decision is on `risk`)."""
        if self.status is not S.PENDING:
            return None
        return self.record("PaymentBlocked", at, status=S.FAILED, failure=Failure(BLOCKED_CODE, message))

    def close_hold(self, outcome: ReviewStatus, by: str, at: str) -> Change | None:
        """Decide our open review: approved (an admin's capture follows), rejected or expired (the
        authorization is canceled next). None when it is not open (decided already)."""
        if self.risk is None or not self.risk.held or outcome == "open":
            return None
        return self.record(REVIEW_CLOSED_EVENT[outcome], at, risk=self.risk.with_hold_closed(outcome, by, at))

    @property
    def hold_opened_at(self) -> str | None:
        """When our review hold opened, while it keeps an authorization to decide or to release: open,
        or rejected or expired and not yet canceled at Stripe (what the hold expiry looks for)."""
        risk = self.risk
        if self.status is not S.REQUIRES_CAPTURE or risk is None or not (risk.held or risk.hold_refused):
            return None
        assert risk.review is not None
        return risk.review.opened_at

    def fail(self, failure: Failure, at: str) -> Change | None:
        """Stripe refused before any intent could be kept (e.g. an invalid request)."""
        if not can_move(self.status, S.FAILED):
            return None
        return self.record("PaymentFailed", at, status=S.FAILED, failure=failure)

    def ensure_capturable(self) -> None:
        if self.status is not S.REQUIRES_CAPTURE:
            raise Conflict(
                "payment_not_capturable",
                f"only a requires_capture payment can be captured; this one is {self.status}",
                payment_id=self.id,
            )

    def capture_amount(self, requested: int | None) -> int:
        """What a capture takes: `requested` (a partial capture, the rest is released) or the whole
        authorization. Never more than was authorized."""
        self.ensure_capturable()
        if requested is None:
            return self.amount
        problems = amount_problems(requested, self.currency, check_minimum=False)
        if problems:
            raise ValidationFailed(problems)
        if requested > self.amount:
            raise Conflict(
                "amount_exceeds_capturable",
                f"a capture takes at most the authorized amount ({self.amount})",
                payment_id=self.id,
                param="amount",
                capturable_amount=self.amount,
            )
        return requested

    def ensure_cancelable(self) -> None:
        if self.status not in CANCELABLE:
            raise Conflict(
                "payment_not_cancelable",
                f"a {self.status} payment cannot be canceled",
                payment_id=self.id,
            )


@dataclass(frozen=True)
class Change:
    """A new version of the payment and the event that records why."""

    payment: Payment
    event: DomainEvent
