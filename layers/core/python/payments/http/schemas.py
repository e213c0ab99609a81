"""The HTTP contract's models: request validation, the views clients get, and the OpenAPI document."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from payments.domain.card import Card
from payments.domain.dispute import (
    EVIDENCE_FILE_TYPES,
    EXPLANATION_FIELDS,
    FILE_FIELDS,
    MAX_EVIDENCE_CHARS,
    MAX_EVIDENCE_FILE_BYTES,
    MAX_EXPLANATION_CHARS,
    MAX_TEXT_CHARS,
    TEXT_FIELDS,
    DisputeRecord,
    file_type_of,
)
from payments.domain.errors import FieldError
from payments.domain.events import DomainEvent
from payments.domain.money import MAX_AMOUNT, SUPPORTED, amount_problems
from payments.domain.order import MAX_TOKEN_LENGTH, ORDER_ID_PATTERN
from payments.domain.payment import Payment
from payments.domain.payment_method import SavedPaymentMethod, SetupSnapshot, Usage
from payments.domain.reconciliation import Difference, DifferenceClass, ReconciliationRun, RunStatus
from payments.domain.refund import Refund, RefundReason
from payments.domain.risk import PaymentRisk
from payments.domain.risk_rules import (
    AuditRecord,
    BlocklistEntry,
    BlocklistKind,
    Timestamp,
    blocklist_value_problem,
)

OrderId = Annotated[str, StringConstraints(pattern=ORDER_ID_PATTERN)]
StripePaymentMethodId = Annotated[str, StringConstraints(pattern=r"^pm_[A-Za-z0-9_]{1,250}$")]
MetadataKey = Annotated[str, StringConstraints(min_length=1, max_length=40)]
MetadataValue = Annotated[str, StringConstraints(max_length=500)]


def _https_url(value: str) -> str:
    if not value.startswith("https://") or len(value) > 2048:
        raise ValueError("must be an https URL of at most 2048 characters")
    return value


def _currency(value: str) -> str:
    lowered = value.lower()
    if lowered not in SUPPORTED:
        raise ValueError("must be a supported ISO 4217 currency code")
    return lowered


Currency = Annotated[str, StringConstraints(min_length=3, max_length=3), AfterValidator(_currency)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProcessPaymentRequest(Strict):
    order_token: Annotated[str, StringConstraints(min_length=1, max_length=MAX_TOKEN_LENGTH)] | None = Field(
        None,
        description="The order token the Order Service signed (compact JWS): order_id, amount, currency "
        "and customer come from it. Required from customers; services and admins may send one or state "
        "order_id, amount, currency (and customer_id) themselves",
    )
    order_id: OrderId | None = Field(
        None, description="Your order's id; an order has at most one live payment. With a token: its order"
    )
    # currency before amount: the amount's rules depend on it (validated in declaration order)
    currency: Currency | None = Field(
        None, description="ISO 4217 code, any case; stored lowercase. With a token: its currency"
    )
    amount: StrictInt | None = Field(
        None,
        description="Integer amount in the currency's minor unit (cents for USD). With a token: its amount",
    )
    payment_method_id: StripePaymentMethodId = Field(description="A Stripe PaymentMethod id (pm_...)")
    capture: Literal["automatic", "manual"] = "automatic"
    description: Annotated[str, StringConstraints(max_length=1000)] | None = None
    metadata: dict[MetadataKey, MetadataValue] = Field(default_factory=dict, max_length=20)
    return_url: Annotated[str, AfterValidator(_https_url)] | None = Field(
        None, description="Where 3-D Secure returns the customer (https)"
    )
    customer_id: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = Field(
        None, description="Admins and services only: the customer to charge"
    )
    off_session: StrictBool = Field(
        False,
        description="Services and admins only: a merchant-initiated charge (a renewal) of one of the "
        "customer's methods saved with usage off_session, without the customer present. A card that needs "
        "the customer's authentication ends requires_action (next_action confirm_on_session)",
    )

    @field_validator("amount")
    @classmethod
    def _chargeable(cls, amount: int | None, info: ValidationInfo) -> int | None:
        if amount is None:
            return None
        currency = info.data.get("currency")
        problems: list[FieldError] = amount_problems(amount, currency or "usd", check_minimum=bool(currency))
        if problems:
            raise ValueError("; ".join(p.message for p in problems))
        return amount


class Failure(BaseModel):
    code: str
    decline_code: str | None = None
    message: str


class DisputeView(BaseModel):
    id: str
    status: str
    reason: str
    amount: int


class RefundResource(BaseModel):
    """A refund as clients see it (internal attributes of the stored record are left out)."""

    id: str = Field(description="Our refund id (rfd_...)")
    object: Literal["refund"] = "refund"
    payment_id: str
    amount: int = Field(description="Minor units of `currency`")
    currency: str
    status: Literal["pending", "succeeded", "failed", "canceled"]
    origin: Literal["api", "stripe"] = Field(description="`stripe`: made outside this API (dashboard)")
    reason: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    stripe_refund_id: str | None = None
    failure_reason: str | None = None
    created_at: str
    updated_at: str


class PaymentResource(BaseModel):
    id: str
    order_id: str
    customer_id: str
    amount: int
    currency: str
    status: str
    capture_method: str
    off_session: bool = Field(False, description="Merchant-initiated: charged without the customer")
    amount_captured: int
    amount_refunded: int
    dispute: DisputeView | None = None
    next_action: dict[str, Any] | None = Field(
        None,
        description="requires_action: what the customer must do. Stripe's (3-D Secure), or "
        "`confirm_on_session` for an off-session charge Stripe declined for want of authentication: "
        "confirm the PaymentIntent with client_secret and the named payment_method, with the customer",
    )
    client_secret: str | None = None
    failure: Failure | None = None
    risk: dict[str, Any] | None = None
    description: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    refunds: list[RefundResource] = Field(default_factory=list)
    created_at: str
    updated_at: str
    version: int


class PaymentList(BaseModel):
    data: list[PaymentResource]
    next_cursor: str | None


class HistoryEvent(BaseModel):
    event_id: str
    event_type: str
    version: int
    occurred_at: str
    data: dict[str, Any]


class PaymentHistory(BaseModel):
    payment_id: str
    data: list[HistoryEvent]


def history_resource(
    payment_id: str, events: Sequence[DomainEvent], *, admin: bool = False
) -> dict[str, Any]:
    """A payment's history as clients see it: each event's envelope and data, oldest first (the risk
    checks' reasons as the viewer may see them, see `risk_view`)."""
    return PaymentHistory(
        payment_id=payment_id,
        data=[
            HistoryEvent(
                event_id=e.event_id,
                event_type=e.event_type,
                version=e.version,
                occurred_at=e.occurred_at,
                data=e.data
                if admin or not e.data.get("risk")
                else {**e.data, "risk": PaymentRisk.from_dict(e.data["risk"]).for_customer()},
            )
            for e in events
        ],
    ).model_dump(mode="json")


def risk_view(risk: PaymentRisk | None, *, admin: bool) -> dict[str, Any] | None:
    """Admins see every reason, fact and Stripe assessment; a customer only what they may act on
    (domain/risk.py, PaymentRisk.for_customer): a blocklist, a rule or a score must not be probed."""
    if risk is None:
        return None
    return risk.to_dict() if admin else risk.for_customer()


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[dict[str, str]] | None = None
    param: str | None = None
    decline_code: str | None = None
    payment_id: str | None = None
    reasons: list[str] | None = Field(
        None, description="payment_blocked: why, in the customer's terms (e.g. too_many_attempts)"
    )


def payment_resource(
    payment: Payment, refunds: Sequence[Refund] = (), *, admin: bool = False
) -> dict[str, Any]:
    failure = payment.failure
    dispute = payment.dispute
    return {
        "id": payment.id,
        "object": "payment",
        "order_id": payment.order_id,
        "customer_id": payment.customer_id,
        "amount": payment.amount,
        "currency": payment.currency,
        "status": str(payment.status),
        "capture_method": payment.capture_method,
        "off_session": payment.off_session,
        "amount_captured": payment.amount_captured,
        "amount_refunded": payment.amount_refunded,
        "dispute": None
        if dispute is None
        else {"id": dispute.id, "status": dispute.status, "reason": dispute.reason, "amount": dispute.amount},
        "next_action": payment.next_action,
        "client_secret": payment.client_secret,
        "failure": None
        if failure is None
        else {"code": failure.code, "decline_code": failure.decline_code, "message": failure.message},
        "risk": risk_view(payment.risk, admin=admin),
        "description": payment.description,
        "metadata": payment.metadata,
        "refunds": [refund_resource(r) for r in sorted(refunds, key=lambda r: r.created_at)],
        "created_at": payment.created_at,
        "updated_at": payment.updated_at,
        "version": payment.version,
    }


def refund_resource(refund: Refund) -> dict[str, Any]:
    """The public view of a refund (who asked and the request's fingerprint stay internal)."""
    return RefundResource(
        id=refund.id,
        payment_id=refund.payment_id,
        amount=refund.amount,
        currency=refund.currency,
        status=refund.status,
        origin=refund.origin,
        reason=refund.reason,
        metadata=refund.metadata,
        stripe_refund_id=refund.stripe_refund_id,
        failure_reason=refund.failure_reason,
        created_at=refund.created_at,
        updated_at=refund.updated_at,
    ).model_dump(mode="json")


class CaptureRequest(Strict):
    amount: Annotated[StrictInt, Field(gt=0, le=MAX_AMOUNT)] | None = Field(
        None,
        description="Minor units to capture, at most the authorized amount; the rest is released to the "
        "customer. Omitted: the whole authorization",
    )


class RefundRequest(Strict):
    amount: Annotated[StrictInt, Field(gt=0, le=MAX_AMOUNT)] | None = Field(
        None, description="Minor units; omitted: everything still refundable"
    )
    reason: RefundReason | None = None
    metadata: dict[MetadataKey, MetadataValue] = Field(default_factory=dict, max_length=20)


class SavePaymentMethodRequest(Strict):
    payment_method_id: StripePaymentMethodId = Field(description="A Stripe PaymentMethod id (pm_...)")
    usage: Usage = Field(
        "on_session",
        description="off_session: also set it up (a Stripe SetupIntent, the customer's consent) for "
        "merchant-initiated charges such as renewals; the customer may have to authenticate once (see "
        "`setup`), then save again to record it",
    )


class CardView(Card):
    # A view: the schema promises these fields, not that clients reject others.
    model_config = ConfigDict(extra="ignore", frozen=True)


class SetupFailureView(BaseModel):
    code: str | None = None
    message: str | None = None


class SetupView(BaseModel):
    """An off-session setup that did not succeed (yet): what the frontend needs to finish it."""

    id: str = Field(description="Stripe's SetupIntent id (seti_...)")
    status: str = Field(description="requires_action: the customer must authenticate (next_action)")
    client_secret: str | None = Field(None, description="For Stripe.js: confirmCardSetup / handleNextAction")
    next_action: dict[str, Any] | None = None
    failure: SetupFailureView | None = Field(None, description="Why the last attempt failed")


class PaymentMethodResource(BaseModel):
    id: str = Field(description="Stripe's PaymentMethod id (pm_...): pass it as payment_method_id to pay")
    object: Literal["payment_method"] = "payment_method"
    customer_id: str
    type: str
    card: CardView | None = None
    usage: Usage = Field(description="off_session: set up for merchant-initiated charges")
    setup: SetupView | None = Field(
        None, description="Saving with usage off_session: the setup, while it has not succeeded"
    )
    created_at: str


class PaymentMethodList(BaseModel):
    data: list[PaymentMethodResource]
    next_cursor: str | None


def payment_method_resource(method: SavedPaymentMethod, setup: SetupSnapshot | None = None) -> dict[str, Any]:
    card = method.card
    return PaymentMethodResource(
        id=method.id,
        customer_id=method.customer_id,
        type=method.type,
        card=None if card is None else CardView(**card.model_dump()),
        usage=method.usage,
        setup=None if setup is None or setup.succeeded else _setup_view(setup),
        created_at=method.created_at,
    ).model_dump(mode="json")


def _setup_view(setup: SetupSnapshot) -> SetupView:
    failed = setup.failure_code is not None or setup.failure_message is not None
    return SetupView(
        id=setup.id,
        status=setup.status,
        client_secret=setup.client_secret,
        next_action=setup.next_action,
        failure=SetupFailureView(code=setup.failure_code, message=setup.failure_message) if failed else None,
    )


# --------------------------------------------------------------------------- the ledger (admins)


class LedgerLine(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    account: str
    amount: int = Field(description="Minor units of the entry's currency: a debit > 0, a credit < 0")


class JournalEntryResource(BaseModel):
    """A journal entry as admins see it, read from the domain's JournalEntry (its attributes)."""

    model_config = ConfigDict(from_attributes=True)

    entry_id: str = Field(description="The source domain event's id: one entry per event")
    source: str = Field(description="The source event's type, e.g. PaymentProcessed")
    payment_id: str | None = Field(description="The payment it books (null: a payout's entry)")
    payout_id: str | None = Field(description="The payout it books")
    stripe_object_id: str | None = Field(
        description="The Stripe object whose balance transactions it mirrors (ch_, re_, dp_, po_...)"
    )
    currency: str
    occurred_at: str = Field(description="When the source event happened (UTC): the booking date")
    lines: list[LedgerLine] = Field(description="They sum to zero")


class JournalEntryList(BaseModel):
    data: list[JournalEntryResource] = Field(description="Oldest first")
    next_cursor: str | None


def journal_entry_resource(entry: object) -> dict[str, Any]:
    """A payments.domain.ledger.JournalEntry as admins see it."""
    return JournalEntryResource.model_validate(entry).model_dump(mode="json")


class AccountBalance(BaseModel):
    account: str
    balance: int = Field(description="Minor units of `currency`, debit positive")


class LedgerBalances(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    currency: str
    first_day: str = Field(alias="from", description="The period's first day (UTC), inclusive")
    last_day: str = Field(alias="to", description="The period's last day (UTC), inclusive")
    accounts: list[AccountBalance] = Field(description="Every account of the chart, in its order")
    trial_balance: int = Field(description="The sum of the balances: 0, as every entry balances")


def ledger_balances_resource(
    currency: str, first_day: str, last_day: str, balances: Sequence[tuple[str, int]], trial_balance: int
) -> dict[str, Any]:
    return LedgerBalances(
        currency=currency,
        first_day=first_day,
        last_day=last_day,
        accounts=[AccountBalance(account=account, balance=balance) for account, balance in balances],
        trial_balance=trial_balance,
    ).model_dump(mode="json", by_alias=True)


# --------------------------------------------------------------------------- reconciliation (admins)

Day = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]
PayoutId = Annotated[str, StringConstraints(pattern=r"^po_[A-Za-z0-9_]{1,120}$")]
RunId = Annotated[str, StringConstraints(pattern=r"^rec_[A-Za-z0-9_-]{1,140}$")]


class ReconciliationRunRequest(Strict):
    """Exactly one form: a period (`from` and `to`, UTC days, both included) or a payout (`payout_id`)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: Day | None = Field(None, alias="from", description="First day (YYYY-MM-DD, UTC)")
    to: Day | None = Field(None, description="Last day (YYYY-MM-DD, UTC), included; today at the latest")
    payout_id: PayoutId | None = Field(None, description="A Stripe payout (po_...): what it paid out")

    @model_validator(mode="after")
    def _one_form(self) -> ReconciliationRunRequest:
        period = self.from_ is not None or self.to is not None
        if period and self.payout_id is not None:
            raise ValueError("send a period (`from` and `to`) or a `payout_id`, not both")
        if not period and self.payout_id is None:
            raise ValueError("send a period (`from` and `to`) or a `payout_id`")
        if period and (self.from_ is None or self.to is None):
            raise ValueError("a period needs both `from` and `to`")
        return self


class ReconciliationPeriod(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from")
    to: str


class RunFailureView(BaseModel):
    code: str = Field(description="The error that stopped the run, e.g. payment_provider_error")
    message: str


class PayoutCheckView(BaseModel):
    """Whether what the payout paid out (every transaction but its own) adds up to its amount."""

    status: Literal["balanced", "unbalanced", "unavailable"]
    payout_amount: int
    transactions_net: int = Field(description="The sum of the paid-out transactions' net")
    difference: int = Field(description="payout_amount - transactions_net")
    transactions: int
    pending: list[str] = Field(description="Paid-out transactions still pending at Stripe")
    reason: str = Field(description="Why it does not add up, or why it cannot be checked")


class ReconciliationRunResource(BaseModel):
    id: str = Field(description="rec_<from>_<to> or rec_<payout id>: the same request, the same run")
    object: Literal["reconciliation_run"] = "reconciliation_run"
    kind: Literal["period", "payout"]
    status: Literal["running", "completed", "failed"]
    attempt: int = Field(description="How many times this run was started; the result is the last one's")
    period: ReconciliationPeriod | None = None
    payout_id: str | None = None
    started_at: str
    finished_at: str | None = None
    failure: RunFailureView | None = None
    currencies: list[str] = Field(description="The currencies compared")
    stripe_transactions: int = Field(description="Stripe's balance transactions in the run's scope")
    ledger_entries: int = Field(description="Our journal entries in the run's scope")
    matched: int = Field(description="Balance transactions that match our books exactly")
    unexplained: int = Field(description="Differences other than timing: 0 on a clean run")
    differences_total: int
    differences_by_class: dict[str, int] = Field(description="Every class, 0 included")
    payout_check: PayoutCheckView | None = None


class ReconciliationRunList(BaseModel):
    data: list[ReconciliationRunResource]
    next_cursor: str | None


class StripeSideView(BaseModel):
    object_id: str | None = Field(description="The balance transactions' source (ch_, re_, dp_, po_...)")
    object_type: str | None
    balance_transaction_ids: list[str]
    amount: int
    fee: int
    net: int


class LedgerSideView(BaseModel):
    entry_ids: list[str] = Field(description="Our journal entries (their source events' ids)")
    amount: int = Field(description="stripe_balance lines plus fee lines")
    fee: int = Field(description="stripe_fees and dispute_fees lines")
    net: int = Field(description="stripe_balance lines")


class DifferenceResource(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    number: int
    class_: DifferenceClass = Field(alias="class")
    explained: bool = Field(description="Only timing is explained")
    currency: str
    payment_id: str | None = None
    refund_id: str | None = None
    payout_id: str | None = None
    stripe: StripeSideView
    ledger: LedgerSideView
    detail: str


class ReconciliationRunDetail(ReconciliationRunResource):
    differences: list[DifferenceResource] = Field(description="A page of the differences, in order")
    next_cursor: str | None


def reconciliation_run_resource(run: ReconciliationRun) -> dict[str, Any]:
    check = run.payout_check
    return ReconciliationRunResource(
        id=run.id,
        kind=run.kind,
        status=run.status.value,
        attempt=run.attempt,
        period=ReconciliationPeriod(from_=run.period_from, to=run.period_to)
        if run.period_from and run.period_to
        else None,
        payout_id=run.payout_id,
        started_at=run.started_at,
        finished_at=run.finished_at,
        failure=RunFailureView(code=run.failure_code or "internal_error", message=run.failure_message or "")
        if run.status is RunStatus.FAILED
        else None,
        currencies=list(run.currencies),
        stripe_transactions=run.stripe_transactions,
        ledger_entries=run.ledger_entries,
        matched=run.matched,
        unexplained=run.unexplained,
        differences_total=run.differences_total,
        differences_by_class={str(c): run.counts.get(str(c), 0) for c in DifferenceClass},
        payout_check=None
        if check is None
        else PayoutCheckView(
            status=check.status,
            payout_amount=check.payout_amount,
            transactions_net=check.transactions_net,
            difference=check.difference,
            transactions=check.transactions,
            pending=list(check.pending),
            reason=check.reason,
        ),
    ).model_dump(mode="json", by_alias=True)


def difference_resource(difference: Difference) -> dict[str, Any]:
    return DifferenceResource(
        number=difference.number,
        class_=difference.difference_class,
        explained=difference.explained,
        currency=difference.currency,
        payment_id=difference.payment_id,
        refund_id=difference.refund_id,
        payout_id=difference.payout_id,
        stripe=StripeSideView(
            object_id=difference.stripe_object_id,
            object_type=difference.stripe_object_type,
            balance_transaction_ids=list(difference.stripe_transaction_ids),
            amount=difference.stripe.amount,
            fee=difference.stripe.fee,
            net=difference.stripe.net,
        ),
        ledger=LedgerSideView(
            entry_ids=list(difference.ledger_entry_ids),
            amount=difference.ledger.amount,
            fee=difference.ledger.fee,
            net=difference.ledger.net,
        ),
        detail=difference.detail,
    ).model_dump(mode="json", by_alias=True)


CSV_COLUMNS = (
    "run_id",
    "number",
    "class",
    "explained",
    "currency",
    "stripe_object_id",
    "stripe_object_type",
    "stripe_balance_transaction_ids",
    "stripe_amount",
    "stripe_fee",
    "stripe_net",
    "ledger_entry_ids",
    "ledger_amount",
    "ledger_fee",
    "ledger_net",
    "payment_id",
    "refund_id",
    "payout_id",
    "detail",
)


def differences_csv(run: ReconciliationRun, differences: Sequence[Difference]) -> str:
    """RFC 4180 CSV, one row per difference; several ids in one cell are separated by spaces. Text
    that a spreadsheet would run as a formula (=, +, -, @ first) is prefixed with a quote."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for d in differences:
        row: list[str | int] = [
            run.id,
            d.number,
            str(d.difference_class),
            "true" if d.explained else "false",
            d.currency,
            d.stripe_object_id or "",
            d.stripe_object_type or "",
            " ".join(d.stripe_transaction_ids),
            d.stripe.amount,
            d.stripe.fee,
            d.stripe.net,
            " ".join(d.ledger_entry_ids),
            d.ledger.amount,
            d.ledger.fee,
            d.ledger.net,
            d.payment_id or "",
            d.refund_id or "",
            d.payout_id or "",
            d.detail,
        ]
        writer.writerow([_cell(value) for value in row])
    return out.getvalue()


def _cell(value: str | int) -> str | int:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


# --------------------------------------------------------------------------- risk rules and blocklist


class BlocklistEntryRequest(Strict):
    kind: BlocklistKind = Field(description="What `value` is")
    value: Annotated[str, StringConstraints(max_length=128)] = Field(
        description="card_fingerprint: Stripe's card fingerprint; card_bin: 6 or 8 digits; issuing_country: "
        "ISO 3166-1 alpha-2 (upper case); customer: our customer id"
    )
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)] = Field(
        description="Why, for the back office and the audit"
    )
    expires_at: Timestamp | None = Field(None, description="When the entry stops applying (null: never)")

    @field_validator("value")
    @classmethod
    def _fits_kind(cls, value: str, info: ValidationInfo) -> str:
        problem = "kind" in info.data and blocklist_value_problem(info.data["kind"], value)
        if problem:
            raise ValueError(problem)
        return value


class BlocklistEntryList(BaseModel):
    data: list[BlocklistEntry] = Field(description="Entries in force, by kind, newest first")
    next_cursor: str | None


class AuditRecordList(BaseModel):
    data: list[AuditRecord] = Field(description="Changes of the rules and the blocklist, newest first")
    next_cursor: str | None


# --------------------------------------------------------------------------- disputes (admins)

DisputeId = Annotated[str, StringConstraints(pattern=r"^dp_[A-Za-z0-9_]{1,120}$")]
FileId = Annotated[str, StringConstraints(pattern=r"^file_[A-Za-z0-9_]{1,120}$")]
# The evidence route's body limit: Lambda takes 6 MB per invocation, the event around the body included,
# so about 4 MB of files (base64) per request; more files go in further requests (`submit: false`).
EVIDENCE_BODY_BYTES = 5_500_000
_Explanation = Annotated[str, StringConstraints(min_length=1, max_length=MAX_EXPLANATION_CHARS)]
_EvidenceText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT_CHARS)]


class _Evidence(Strict):
    """Stripe's evidence fields: explanations of up to 20,000 characters, other text of up to 5,000, and
    documents as ids of files uploaded to Stripe (or sent in `files`); together at most 150,000
    characters. Each field given replaces what is staged in it."""

    @model_validator(mode="after")
    def _combined(self) -> _Evidence:
        total = sum(len(value) for value in self.given().values())
        if total > MAX_EVIDENCE_CHARS:
            raise ValueError(f"the evidence fields together take at most {MAX_EVIDENCE_CHARS} characters")
        return self

    def given(self) -> dict[str, str]:
        return {name: str(value) for name, value in self.model_dump(exclude_none=True).items()}


def _evidence_model() -> type[_Evidence]:
    from pydantic import create_model

    kinds: list[tuple[tuple[str, ...], Any, str]] = [
        (EXPLANATION_FIELDS, _Explanation, f"Text, at most {MAX_EXPLANATION_CHARS:,} characters"),
        (TEXT_FIELDS, _EvidenceText, f"Text, at most {MAX_TEXT_CHARS:,} characters"),
        (FILE_FIELDS, FileId, "A Stripe file id (file_...) with purpose dispute_evidence"),
    ]
    fields: dict[str, Any] = {
        name: (kind | None, Field(None, description=about)) for names, kind, about in kinds for name in names
    }
    return create_model("DisputeEvidence", __base__=_Evidence, __doc__=_Evidence.__doc__, **fields)


# Built from the domain's field lists (their one home); the type checker knows it by its base.
if TYPE_CHECKING:
    DisputeEvidence = _Evidence
else:
    DisputeEvidence = _evidence_model()


class EvidenceFileUpload(Strict):
    """A document for one file field: uploaded to Stripe's Files API, its file id put in that field."""

    field: str = Field(
        description="The evidence field it answers", json_schema_extra={"enum": list(FILE_FIELDS)}
    )
    filename: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^/\\\x00-\x1f]+$")]
    content_type: Literal["application/pdf", "image/jpeg", "image/png"]
    content: str = Field(
        description=f"The file, base64; at most {MAX_EVIDENCE_FILE_BYTES:,} bytes once decoded (Stripe's "
        "limit), within the request's own limit"
    )

    @field_validator("field")
    @classmethod
    def _file_field(cls, value: str) -> str:
        if value not in FILE_FIELDS:
            raise ValueError(f"must be one of the file fields: {', '.join(FILE_FIELDS)}")
        return value

    @model_validator(mode="after")
    def _a_document(self) -> EvidenceFileUpload:
        data = self.data()
        if len(data) > MAX_EVIDENCE_FILE_BYTES:
            raise ValueError(f"the file is over {MAX_EVIDENCE_FILE_BYTES:,} bytes")
        if file_type_of(data) != EVIDENCE_FILE_TYPES[self.content_type]:
            raise ValueError(f"the content is not a {self.content_type} file")
        return self

    def data(self) -> bytes:
        import base64
        import binascii

        try:
            return base64.b64decode(self.content, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("content is not base64") from None


class DisputeEvidenceRequest(Strict):
    evidence: DisputeEvidence = Field(default_factory=DisputeEvidence)
    files: list[EvidenceFileUpload] = Field(default_factory=list, max_length=len(FILE_FIELDS))
    submit: StrictBool = Field(
        False,
        description="true: submit the evidence to the bank, once and for good; false (the default, unlike "
        "Stripe's): stage it",
    )

    @model_validator(mode="after")
    def _something(self) -> DisputeEvidenceRequest:
        fields = [f.field for f in self.files]
        if len(set(fields)) != len(fields):
            raise ValueError("send one file per field")
        both = set(fields) & set(self.evidence.given())
        if both:
            raise ValueError(f"{', '.join(sorted(both))}: send a file id or a file, not both")
        if not self.submit and not fields and not self.evidence.given():
            raise ValueError("nothing to stage: send evidence, files, or submit: true")
        return self


class AcceptDisputeRequest(Strict):
    confirm: Literal["accept_loss"] = Field(
        description="`accept_loss`: accepting concedes the dispute, the funds stay with the cardholder"
    )


class EvidenceDetailsView(BaseModel):
    due_by: str | None = Field(description="Stripe's deadline for the evidence (RFC 3339 UTC)")
    has_evidence: bool
    past_due: bool = Field(description="The last submission came after due_by")
    submission_count: int = Field(description="0 until the evidence is submitted; Stripe takes one")


class EvidenceFileView(BaseModel):
    field: str
    file_id: str
    filename: str
    type: str = Field(description="Stripe's file type: pdf, jpg or png")
    size: int = Field(description="Bytes")


class DisputeResource(BaseModel):
    id: str = Field(description="Stripe's dispute id (dp_...)")
    object: Literal["dispute"] = "dispute"
    payment_id: str
    amount: int = Field(description="The disputed amount, minor units of `currency`")
    currency: str
    reason: str
    status: str
    evidence_details: EvidenceDetailsView
    evidence_submitted: bool
    files: list[EvidenceFileView] = Field(description="The files uploaded through this API")
    charge_id: str | None = None
    payment_intent_id: str | None = None
    created_at: str
    updated_at: str
    version: int


class DisputeDetail(DisputeResource):
    evidence: dict[str, str] = Field(
        description="The evidence as Stripe holds it, staged or submitted: the fields that are set"
    )


class DisputeList(BaseModel):
    data: list[DisputeResource] = Field(description="The soonest due first")
    next_cursor: str | None


def dispute_resource(record: DisputeRecord, evidence: dict[str, str] | None = None) -> dict[str, Any]:
    """A dispute as admins see it; with `evidence`, its detail."""
    from datetime import UTC, datetime

    due = record.due_by
    view = DisputeResource(
        id=record.id,
        payment_id=record.payment_id,
        amount=record.amount,
        currency=record.currency,
        reason=record.reason,
        status=record.status,
        evidence_details=EvidenceDetailsView(
            due_by=None
            if due is None
            else datetime.fromtimestamp(due, UTC).isoformat().replace("+00:00", "Z"),
            has_evidence=record.has_evidence,
            past_due=record.past_due,
            submission_count=record.submission_count,
        ),
        evidence_submitted=record.evidence_submitted,
        files=[
            EvidenceFileView(field=f.field, file_id=f.file_id, filename=f.filename, type=f.type, size=f.size)
            for f in record.files
        ],
        charge_id=record.charge_id,
        payment_intent_id=record.payment_intent_id,
        created_at=record.created_at,
        updated_at=record.updated_at,
        version=record.version,
    )
    if evidence is None:
        return view.model_dump(mode="json")
    return DisputeDetail(**view.model_dump(), evidence=evidence).model_dump(mode="json")
