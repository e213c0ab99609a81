"""Domain events: the envelope every event shares and the typed payload of each kind.

An event is written in the same transaction as the state it explains (EVENT# item), serves as the
payment's history, and is published to EventBridge after commit (source "payments", detail-type =
event_type, detail = the envelope). Ids are deterministic (aggregate id and version), so a republish
or a retried commit carries the same id and consumers can dedupe on it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from payments.domain.card import Card
from payments.domain.risk import PaymentRisk
from payments.domain.risk_rules import BlocklistEntry, RiskRules

if TYPE_CHECKING:
    from payments.domain.payment import Payment

EventType = Literal[
    "PaymentInitiated",
    "PaymentProcessing",
    "PaymentRequiresAction",
    "PaymentAuthorized",
    "PaymentProcessed",
    "PaymentCaptured",
    "PaymentFailed",
    "PaymentCanceled",
    "PaymentFeeRecorded",
    "StrayChargeDetected",
    "PaymentBlocked",
    "PaymentHeldForReview",
    "PaymentReviewApproved",
    "PaymentReviewRejected",
    "PaymentReviewExpired",
    "RadarOutcomeRecorded",
    "PaymentReviewOpened",
    "PaymentReviewClosed",
    "FraudWarningReceived",
    "RefundRequested",
    "RefundIssued",
    "RefundFailed",
    "ChargebackReceived",
    "DisputeUpdated",
    "DisputeClosed",
    "DisputeDeadlineApproaching",
    "PaymentMethodSaved",
    "PaymentMethodDeleted",
    "PayoutCreated",
    "PayoutPaid",
    "PayoutFailed",
    "PayoutCanceled",
    "ReconciliationCompleted",
    "RiskRulesChanged",
    "BlocklistEntryAdded",
    "BlocklistEntryRemoved",
]


class _Model(BaseModel):
    # Each model's validator is built when the model is first used, not at import: a function uses a
    # few of the ~60 event models, and building all of them was most of an on-demand cold start's own
    # import time. SnapStart functions build them all before the snapshot (build_models).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


def build_models(base: type[BaseModel] = _Model) -> None:
    """Build the validators of `base` and every model under it now (SnapStart priming)."""
    for model in base.__subclasses__():
        model.model_rebuild(force=True)
        build_models(model)


class FailureData(_Model):
    code: str
    message: str
    decline_code: str | None = None


class DisputeData(_Model):
    id: str
    status: str
    reason: str
    amount: int = Field(description="The disputed amount, minor units of the charge's currency")
    currency: str | None = Field(None, description="Currency of the balance transactions below")
    amount_withdrawn: int = Field(0, description="Taken from our Stripe balance so far")
    fee: int = Field(0, description="Dispute fees taken so far")
    amount_reinstated: int = Field(0, description="Given back so far (a won dispute)")
    fee_reinstated: int = Field(0, description="Dispute fees given back so far")


class DisputeMovementData(_Model):
    """The money one dispute event moved: the growth of the dispute's totals since the previous event,
    and the disputed funds that became a loss (the dispute was lost). What the ledger books."""

    currency: str
    withdrawn: int = 0
    fee: int = 0
    reinstated: int = 0
    fee_reinstated: int = 0
    lost: int = 0


class DisputeDeadlineData(_Model):
    """DisputeDeadlineApproaching: the dispute still waits for our evidence and its deadline is near."""

    dispute_id: str = Field(description="Stripe's dp_... id")
    status: str = Field(description="needs_response or warning_needs_response")
    due_by: str = Field(description="Stripe's evidence_details.due_by (RFC 3339 UTC)")
    hours: Literal[72, 24] = Field(description="The notice: 72 or 24 hours before due_by, each sent once")


class RefundData(_Model):
    id: str = Field(description="Our refund id")
    amount: int = Field(description="Minor units of `currency`")
    currency: str
    status: Literal["pending", "succeeded", "failed", "canceled"]
    reason: str | None = None
    stripe_refund_id: str | None = None
    failure_reason: str | None = None
    previous_status: str | None = Field(
        None, description="The refund's status before this event (a succeeded refund can still fail)"
    )


class StrayIntentData(_Model):
    """A PaymentIntent that names the payment but is not the one our books hold, and held money."""

    intent_id: str = Field(description="Stripe's pi_... id")
    action: Literal["recorded", "authorization_canceled", "refunded"] = Field(
        description="What was done: by policy an authorization is canceled and a charge refunded"
    )


class RiskReasonData(_Model):
    check: str = Field(description="The check that spoke: blocklist, velocity, card_testing, ...")
    code: str
    message: str = Field(description="For the back office")
    decision: Literal["allow", "review", "block"] | None = Field(None, description="What it asked for")


class RiskDecisionData(_Model):
    """Our pre-authorization decision: the strictest of the checks' decisions, with every reason."""

    decision: Literal["allow", "review", "block"]
    reasons: list[RiskReasonData] = Field(default_factory=list)
    decided_at: str


class ReviewData(_Model):
    source: Literal["rules", "stripe"] = Field(description="rules: our checks held the payment")
    status: Literal["open", "approved", "rejected", "expired"]
    opened_at: str
    reason: str | None = None
    closed_at: str | None = None
    closed_by: str | None = Field(None, description="The admin's sub, `expiry`, or `stripe`")
    stripe_review_id: str | None = Field(None, description="Stripe's prv_... id (source stripe)")


class RadarData(_Model):
    """Stripe Radar's assessment of the payment's charge (charge.outcome)."""

    risk_level: str | None = Field(None, description="normal, elevated, highest, not_assessed, unknown")
    risk_score: int | None = Field(None, description="0-100 (Radar for Fraud Teams)")
    rule: str | None = Field(None, description="The Radar rule that acted, if any")
    outcome_type: str | None = Field(
        None, description="authorized, manual_review, issuer_declined, blocked, invalid"
    )
    seller_message: str | None = None
    network_status: str | None = None


class FraudWarningData(_Model):
    """The issuer's early fraud warning on the charge (radar.early_fraud_warning)."""

    id: str = Field(description="Stripe's issfr_... id")
    fraud_type: str
    actionable: bool = Field(description="Not disputed nor fully refunded when it was received")
    received_at: str


class RiskData(_Model):
    """What our checks decided before Stripe saw the card, the review (ours or Stripe's), Radar's
    outcome and an early fraud warning, as the payment stands."""

    decision: RiskDecisionData | None = None
    review: ReviewData | None = None
    radar: RadarData | None = None
    fraud_warning: FraudWarningData | None = None


class PaymentData(_Model):
    """The payment as it stands after the event: enough for consumers to act without a read."""

    amount: int = Field(description="Minor units of `currency`")
    currency: str
    status: str
    capture_method: str
    off_session: bool = Field(
        False, description="Merchant-initiated: on PaymentRequiresAction the customer must come back"
    )
    amount_captured: int
    amount_refunded: int
    stripe_payment_intent_id: str | None = None
    stripe_charge_id: str | None = None
    stripe_fee: int | None = Field(None, description="Stripe's fee on the charge in minor units")
    failure: FailureData | None = None
    dispute: DisputeData | None = None
    refund: RefundData | None = Field(None, description="The refund this event is about, if any")
    dispute_movement: DisputeMovementData | None = Field(
        None, description="Dispute events: the money this event moved at Stripe"
    )
    stray: StrayIntentData | None = Field(None, description="StrayChargeDetected: the other intent")
    risk: RiskData | None = Field(
        None, description="Our pre-authorization decision and review hold, once the payment has either"
    )
    deadline: DisputeDeadlineData | None = Field(
        None, description="DisputeDeadlineApproaching: which dispute, its deadline and the notice"
    )
    fee_recorded: int | None = Field(
        None, description="PaymentFeeRecorded: Stripe's fee, known after the charge was booked"
    )
    amount_released: int | None = Field(
        None,
        description="PaymentCaptured: the authorized amount not captured, released to the customer "
        "(0 for a full capture)",
    )


class DomainEvent(_Model):
    event_id: str
    event_type: EventType
    version: int = Field(description="The aggregate's version this event produced")
    occurred_at: str = Field(description="RFC 3339 UTC")
    payment_id: str | None = None
    order_id: str | None = None
    customer_id: str | None = None  # None: not a customer's (a payout, a reconciliation run)
    data: dict[str, Any]

    @classmethod
    def about(cls, payment: Payment, event_type: EventType, at: str, **extra: Any) -> DomainEvent:
        return cls(
            event_id=f"{payment.id}:v{payment.version}",
            event_type=event_type,
            version=payment.version,
            occurred_at=at,
            payment_id=payment.id,
            order_id=payment.order_id,
            customer_id=payment.customer_id,
            data=payment_data(payment, **extra).model_dump(mode="json"),
        )


def payment_data(payment: Payment, **extra: Any) -> PaymentData:
    failure = payment.failure
    dispute = payment.dispute
    risk = payment.risk
    return PaymentData(
        amount=payment.amount,
        currency=payment.currency,
        status=str(payment.status),
        capture_method=payment.capture_method,
        off_session=payment.off_session,
        amount_captured=payment.amount_captured,
        amount_refunded=payment.amount_refunded,
        stripe_payment_intent_id=payment.stripe_payment_intent_id,
        stripe_charge_id=payment.stripe_charge_id,
        stripe_fee=payment.stripe_fee,
        failure=FailureData(code=failure.code, message=failure.message, decline_code=failure.decline_code)
        if failure
        else None,
        dispute=DisputeData(
            id=dispute.id,
            status=dispute.status,
            reason=dispute.reason,
            amount=dispute.amount,
            currency=dispute.currency,
            amount_withdrawn=dispute.amount_withdrawn,
            fee=dispute.fee,
            amount_reinstated=dispute.amount_reinstated,
            fee_reinstated=dispute.fee_reinstated,
        )
        if dispute
        else None,
        risk=None
        if risk is None or risk == PaymentRisk()
        else RiskData(
            decision=None
            if risk.decision is None
            else RiskDecisionData(
                decision=risk.decision.decision,
                reasons=[RiskReasonData(**vars(reason)) for reason in risk.decision.reasons],
                decided_at=risk.decision.decided_at,
            ),
            review=None if risk.review is None else ReviewData(**vars(risk.review)),
            radar=None if risk.radar is None else RadarData(**vars(risk.radar)),
            fraud_warning=None
            if risk.fraud_warning is None
            else FraudWarningData(**vars(risk.fraud_warning)),
        ),
        **extra,
    )


# --------------------------------------------------------------------------- typed details
# The `detail` of each event type on the bus, for consumers' parsers and the JSON Schemas in
# events/schemas (generated: `make schemas`). Same fields as DomainEvent, with
# the type fixed and `data` typed.


class PaymentMethodData(Card):
    payment_method_id: str = Field(description="Stripe's pm_... id")


class PayoutData(_Model):
    """A Stripe payout as it stands after the event: money from our Stripe balance to the bank."""

    id: str = Field(description="Stripe's po_... id")
    amount: int = Field(description="Minor units of `currency`")
    currency: str
    status: Literal["pending", "in_transit", "paid", "failed", "canceled"]
    automatic: bool = Field(description="Made by Stripe's payout schedule (its transactions are listable)")
    arrival_date: int | None = Field(None, description="Expected arrival at the bank (Unix time)")
    failure_code: str | None = None
    previous_status: str | None = Field(
        None, description="The payout's status before this event (None: the first we heard of it)"
    )


class ReconciliationData(_Model):
    """A finished reconciliation run: what was compared and how many differences of each class."""

    run_id: str
    period_from: str | None = Field(None, description="First day (YYYY-MM-DD, UTC) of a period run")
    period_to: str | None = Field(None, description="Last day (inclusive) of a period run")
    payout_id: str | None = Field(None, description="The payout of a payout run")
    status: Literal["completed", "failed"]
    matched: int = Field(description="Balance transactions matched to our books without a difference")
    unexplained: int = Field(description="Differences not explained by timing: 0 on a clean run")
    differences: dict[str, int] = Field(default_factory=dict, description="Count per class")


class RiskRulesData(_Model):
    """The risk rules in force after the change (rules.version is the event's version)."""

    rules: RiskRules
    previous_version: int = Field(description="0: the defaults were in force")
    changed_by: str = Field(description="The admin's sub")


class BlocklistEntryData(_Model):
    entry: BlocklistEntry
    changed_by: str = Field(description="The admin's sub who added or removed the entry")


class _Detail(_Model):
    event_id: str = Field(
        description="Stable across republishing (`<aggregate id>:v<version>`): dedupe on it"
    )
    version: int = Field(description="The aggregate's version this event produced")
    occurred_at: str = Field(description="RFC 3339 UTC")
    customer_id: str


class PaymentEvent(_Detail):
    """Any payment event (every type but the payment-method ones)."""

    event_type: EventType
    payment_id: str
    order_id: str
    data: PaymentData


class PaymentMethodEvent(_Detail):
    event_type: Literal["PaymentMethodSaved", "PaymentMethodDeleted"]
    payment_id: None = None
    order_id: None = None
    data: PaymentMethodData


class PaymentInitiated(PaymentEvent):
    """The payment was written ahead of Stripe (status pending)."""

    event_type: Literal["PaymentInitiated"]


class PaymentProcessing(PaymentEvent):
    """Stripe is processing the payment (asynchronous payment methods)."""

    event_type: Literal["PaymentProcessing"]


class PaymentRequiresAction(PaymentEvent):
    """The customer must act (3-D Secure): see the payment's next_action. With data.off_session, a
    merchant-initiated charge the card's issuer wants the customer to authenticate: bring them back to
    confirm it on-session."""

    event_type: Literal["PaymentRequiresAction"]


class PaymentAuthorized(PaymentEvent):
    """A manual-capture payment is authorized and held (requires_capture)."""

    event_type: Literal["PaymentAuthorized"]


class PaymentProcessed(PaymentEvent):
    """An automatic-capture payment succeeded: the money is captured."""

    event_type: Literal["PaymentProcessed"]


class PaymentCaptured(PaymentEvent):
    """A held (manual-capture) payment was captured: data.amount_captured (what the ledger books), and
    data.amount_released, the rest of the authorization, released by a partial capture."""

    event_type: Literal["PaymentCaptured"]


class PaymentFailed(PaymentEvent):
    """The payment failed (declined, authentication failed, or refused by Stripe)."""

    event_type: Literal["PaymentFailed"]


class PaymentCanceled(PaymentEvent):
    """The payment was canceled before capture."""

    event_type: Literal["PaymentCanceled"]


class PaymentFeeRecorded(PaymentEvent):
    """Stripe's fee on the charge became known after the charge was booked (asynchronous balance
    transactions): data.fee_recorded, booked as its own entry."""

    event_type: Literal["PaymentFeeRecorded"]


class StrayChargeDetected(PaymentEvent):
    """A PaymentIntent naming this payment held money our books do not hold (data.stray)."""

    event_type: Literal["StrayChargeDetected"]


class PaymentBlocked(PaymentEvent):
    """Our checks blocked the payment before Stripe saw it (status failed, failure payment_blocked):
    data.risk.decision names every reason. The order is free again."""

    event_type: Literal["PaymentBlocked"]


class PaymentHeldForReview(PaymentEvent):
    """Our checks asked for a review: the payment is authorized (requires_capture) and held until an
    admin captures (approves) or cancels (rejects) it, or the hold expires (data.risk)."""

    event_type: Literal["PaymentHeldForReview"]


class PaymentReviewApproved(PaymentEvent):
    """An admin approved a held payment; its capture follows (data.risk.review.closed_by)."""

    event_type: Literal["PaymentReviewApproved"]


class PaymentReviewRejected(PaymentEvent):
    """An admin rejected a held payment; its authorization is canceled next (PaymentCanceled)."""

    event_type: Literal["PaymentReviewRejected"]


class PaymentReviewExpired(PaymentEvent):
    """A held payment was not decided in time; its authorization is canceled next (PaymentCanceled)."""

    event_type: Literal["PaymentReviewExpired"]


class RadarOutcomeRecorded(PaymentEvent):
    """Stripe Radar's outcome on the charge arrived after the payment's status did (data.risk.radar).
    An outcome that arrives with the status is carried on that status's event instead."""

    event_type: Literal["RadarOutcomeRecorded"]


class PaymentReviewOpened(PaymentEvent):
    """Stripe Radar placed the payment's charge in review (data.risk.review, source stripe)."""

    event_type: Literal["PaymentReviewOpened"]


class PaymentReviewClosed(PaymentEvent):
    """Stripe's review of the charge closed: data.risk.review.reason is Stripe's closed_reason
    (approved, refunded, refunded_as_fraud, disputed, canceled, ...)."""

    event_type: Literal["PaymentReviewClosed"]


class FraudWarningReceived(PaymentEvent):
    """The card issuer reported the charge as likely fraud (data.risk.fraud_warning); by the risk rules
    an actionable warning on a payment not disputed is refunded (RefundRequested follows)."""

    event_type: Literal["FraudWarningReceived"]


class RefundRequested(PaymentEvent):
    """A refund was reserved and asked of Stripe (data.refund)."""

    event_type: Literal["RefundRequested"]


class RefundIssued(PaymentEvent):
    """A refund succeeded (data.refund)."""

    event_type: Literal["RefundIssued"]


class RefundFailed(PaymentEvent):
    """A refund failed or was canceled; its amount is refundable again (data.refund)."""

    event_type: Literal["RefundFailed"]


class ChargebackReceived(PaymentEvent):
    """The cardholder disputed the payment (data.dispute, data.dispute_movement)."""

    event_type: Literal["ChargebackReceived"]


class DisputeUpdated(PaymentEvent):
    """The dispute moved forward or moved money (data.dispute, data.dispute_movement)."""

    event_type: Literal["DisputeUpdated"]


class DisputeClosed(PaymentEvent):
    """The dispute was decided: won, lost or closed (data.dispute, data.dispute_movement)."""

    event_type: Literal["DisputeClosed"]


class DisputeDeadlineApproaching(PaymentEvent):
    """A dispute still needing our response is due within 72 or 24 hours (data.deadline): each notice
    once per dispute."""

    event_type: Literal["DisputeDeadlineApproaching"]


class PaymentMethodSaved(PaymentMethodEvent):
    """A customer saved a Stripe payment method."""

    event_type: Literal["PaymentMethodSaved"]


class PaymentMethodDeleted(PaymentMethodEvent):
    """A customer deleted a saved payment method."""

    event_type: Literal["PaymentMethodDeleted"]


class _ServiceDetail(_Model):
    """Events about no customer or payment: payouts, reconciliation runs, risk rules and the blocklist."""

    event_id: str = Field(description="Stable across republishing: dedupe on it")
    version: int = Field(description="The aggregate's version this event produced")
    occurred_at: str = Field(description="RFC 3339 UTC")
    payment_id: None = None
    order_id: None = None
    customer_id: None = None


class PayoutEvent(_ServiceDetail):
    """Any payout event."""

    event_type: Literal["PayoutCreated", "PayoutPaid", "PayoutFailed", "PayoutCanceled"]
    data: PayoutData


class PayoutCreated(PayoutEvent):
    """Stripe took a payout from our balance; it is on its way to the bank."""

    event_type: Literal["PayoutCreated"]


class PayoutPaid(PayoutEvent):
    """The payout arrived at the bank."""

    event_type: Literal["PayoutPaid"]


class PayoutFailed(PayoutEvent):
    """The payout failed (even after it was paid): the money is back in our Stripe balance."""

    event_type: Literal["PayoutFailed"]


class PayoutCanceled(PayoutEvent):
    """The payout was canceled before it left: the money is back in our Stripe balance."""

    event_type: Literal["PayoutCanceled"]


class ReconciliationCompleted(_ServiceDetail):
    """A reconciliation run finished (data.unexplained is 0 on a clean run)."""

    event_type: Literal["ReconciliationCompleted"]
    data: ReconciliationData


class RiskRulesChanged(_ServiceDetail):
    """An admin replaced the risk rules; they apply within the functions' rules cache time."""

    event_type: Literal["RiskRulesChanged"]
    data: RiskRulesData


class BlocklistEntryAdded(_ServiceDetail):
    """An admin blocked a card fingerprint, card BIN, issuing country or customer (`<entry_id>:v1`)."""

    event_type: Literal["BlocklistEntryAdded"]
    data: BlocklistEntryData


class BlocklistEntryRemoved(_ServiceDetail):
    """An admin removed a blocklist entry (`<entry_id>:v2`)."""

    event_type: Literal["BlocklistEntryRemoved"]
    data: BlocklistEntryData


DETAIL_MODELS: dict[str, type[_Detail] | type[_ServiceDetail]] = {
    model.__name__: model
    for model in (
        PaymentInitiated,
        PaymentProcessing,
        PaymentRequiresAction,
        PaymentAuthorized,
        PaymentProcessed,
        PaymentCaptured,
        PaymentFailed,
        PaymentCanceled,
        PaymentFeeRecorded,
        StrayChargeDetected,
        PaymentBlocked,
        PaymentHeldForReview,
        PaymentReviewApproved,
        PaymentReviewRejected,
        PaymentReviewExpired,
        RadarOutcomeRecorded,
        PaymentReviewOpened,
        PaymentReviewClosed,
        FraudWarningReceived,
        RefundRequested,
        RefundIssued,
        RefundFailed,
        ChargebackReceived,
        DisputeUpdated,
        DisputeClosed,
        DisputeDeadlineApproaching,
        PaymentMethodSaved,
        PaymentMethodDeleted,
        PayoutCreated,
        PayoutPaid,
        PayoutFailed,
        PayoutCanceled,
        ReconciliationCompleted,
        RiskRulesChanged,
        BlocklistEntryAdded,
        BlocklistEntryRemoved,
    )
}


def detail_schema(event_type: str) -> dict[str, Any]:
    """The JSON Schema of the bus `detail` of one event type."""
    model = DETAIL_MODELS[event_type]
    schema = model.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://schemas.payments.example/events/{event_type}.json",
        **schema,
        "description": f"{(model.__doc__ or '').strip()} EventBridge detail-type `{event_type}`, source "
        "`payments`; consumers dedupe on `event_id`.",
    }
