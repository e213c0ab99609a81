"""The HTTP contract's models: request validation, the views clients get, and the OpenAPI document."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from payments.domain.card import Card
from payments.domain.errors import FieldError
from payments.domain.events import DomainEvent
from payments.domain.money import MAX_AMOUNT, SUPPORTED, amount_problems
from payments.domain.payment import Payment
from payments.domain.payment_method import SavedPaymentMethod
from payments.domain.reconciliation import Difference, DifferenceClass, ReconciliationRun, RunStatus
from payments.domain.refund import Refund, RefundReason

OrderId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
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
    order_id: OrderId = Field(description="Your order's id; an order has at most one live payment")
    # currency before amount: the amount's rules depend on it (validated in declaration order)
    currency: Currency = Field(description="ISO 4217 code, any case; stored lowercase")
    amount: StrictInt = Field(description="Integer amount in the currency's minor unit (cents for USD)")
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

    @field_validator("amount")
    @classmethod
    def _chargeable(cls, amount: int, info: ValidationInfo) -> int:
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
    amount_captured: int
    amount_refunded: int
    dispute: DisputeView | None = None
    next_action: dict[str, Any] | None = None
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


def history_resource(payment_id: str, events: Sequence[DomainEvent]) -> dict[str, Any]:
    """A payment's history as clients see it: each event's envelope and data, oldest first."""
    return PaymentHistory(
        payment_id=payment_id,
        data=[
            HistoryEvent(
                event_id=e.event_id,
                event_type=e.event_type,
                version=e.version,
                occurred_at=e.occurred_at,
                data=e.data,
            )
            for e in events
        ],
    ).model_dump(mode="json")


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


def payment_resource(payment: Payment, refunds: Sequence[Refund] = ()) -> dict[str, Any]:
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
        "risk": None if payment.risk is None else payment.risk.to_dict(),
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


class RefundRequest(Strict):
    amount: Annotated[StrictInt, Field(gt=0, le=MAX_AMOUNT)] | None = Field(
        None, description="Minor units; omitted: everything still refundable"
    )
    reason: RefundReason | None = None
    metadata: dict[MetadataKey, MetadataValue] = Field(default_factory=dict, max_length=20)


class SavePaymentMethodRequest(Strict):
    payment_method_id: StripePaymentMethodId = Field(description="A Stripe PaymentMethod id (pm_...)")


class CardView(Card):
    # A view: the schema promises these fields, not that clients reject others.
    model_config = ConfigDict(extra="ignore", frozen=True)


class PaymentMethodResource(BaseModel):
    id: str = Field(description="Stripe's PaymentMethod id (pm_...): pass it as payment_method_id to pay")
    object: Literal["payment_method"] = "payment_method"
    customer_id: str
    type: str
    card: CardView | None = None
    created_at: str


class PaymentMethodList(BaseModel):
    data: list[PaymentMethodResource]
    next_cursor: str | None


def payment_method_resource(method: SavedPaymentMethod) -> dict[str, Any]:
    card = method.card
    return PaymentMethodResource(
        id=method.id,
        customer_id=method.customer_id,
        type=method.type,
        card=None if card is None else CardView(**card.model_dump()),
        created_at=method.created_at,
    ).model_dump(mode="json")


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
