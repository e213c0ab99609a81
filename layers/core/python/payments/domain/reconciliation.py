"""Reconciliation (pure): our ledger against Stripe's balance transactions, Stripe object by object.

Stripe keeps one balance transaction per money movement, each naming its `source` (the charge, refund,
dispute or payout); every journal entry names the Stripe object it mirrors (`stripe_object_id`). For each
object and currency, Stripe's sum of `net` is compared with the sum of our `stripe_balance` lines, and
Stripe's sum of `fee` with the sum of our fee lines (`stripe_fees`, `dispute_fees`); Stripe's `amount`
is `net + fee`, ours the same sum. One rule for charges (net = captured - fee), refunds and refund
failures, disputes (withdrawn with a fee, reinstated with a negative fee) and payouts (-amount, and
+amount when one fails). docs/ledger.md, "Reconciliation", has the classes with examples.

Both sides are read over the period widened by one day each way, so an object whose two sides fall on
either side of a period edge is `timing` (explained), not a difference in two periods.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Literal

from payments.domain.errors import FieldError, ValidationFailed
from payments.domain.events import DomainEvent, ReconciliationData
from payments.domain.ledger import Account, JournalEntry

FEE_ACCOUNTS = frozenset({Account.STRIPE_FEES, Account.DISPUTE_FEES})
# The longest period one run compares (days, both ends included).
MAX_PERIOD_DAYS = 31
# A run stores at most this many differences (DIFF#<nnnnn>); its counts stay exact.
MAX_STORED_DIFFERENCES = 99_999
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PAYOUT_ID = re.compile(r"^po_[A-Za-z0-9_]{1,120}$")
RUN_ID = re.compile(r"^rec_[A-Za-z0-9_-]{1,140}$")


class DifferenceClass(StrEnum):
    """Why an object's two sides disagree. Only `timing` is explained."""

    MISSING_IN_LEDGER = "missing_in_ledger"  # Stripe moved money for one of ours; we booked nothing
    UNKNOWN_AT_STRIPE = "unknown_at_stripe"  # Stripe moved money for something that is not ours
    MISSING_AT_STRIPE = "missing_at_stripe"  # we booked Stripe money Stripe has no transaction for
    AMOUNT_MISMATCH = "amount_mismatch"  # both sides, different amounts
    FEE_MISMATCH = "fee_mismatch"  # same amount, different fee (so a different net)
    TIMING = "timing"  # the same once the days either side of the period are included


EXPLAINED = frozenset({DifferenceClass.TIMING})


class RunStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


# --------------------------------------------------------------------------- the two sides


@dataclass(frozen=True)
class BalanceTransaction:
    """One of Stripe's balance transactions with what its source says about us."""

    id: str  # txn_...
    type: str  # charge, refund, refund_failure, adjustment, payout, payout_failure, ...
    currency: str
    amount: int  # minor units; amount = net + fee
    fee: int
    net: int
    created: int  # Unix time
    status: str = "available"  # or pending
    source_id: str | None = None  # ch_, re_, dp_, po_...
    source_type: str | None = None  # charge, refund, dispute, payout...
    payment_id: str | None = None  # ours: from the source's metadata, or its PaymentIntent's
    refund_id: str | None = None  # our refund id, from a refund's metadata
    payment_intent_id: str | None = None  # the source's PaymentIntent (to ask whose it is)

    @property
    def day(self) -> str:
        return datetime.fromtimestamp(self.created, UTC).date().isoformat()


@dataclass(frozen=True)
class PayoutAtStripe:
    id: str
    amount: int
    currency: str
    status: str
    automatic: bool
    created: int
    reconciliation_status: str | None = None  # Stripe: in_progress, completed, not_applicable
    balance_transaction_id: str | None = None

    @property
    def day(self) -> str:
        return datetime.fromtimestamp(self.created, UTC).date().isoformat()


@dataclass(frozen=True)
class Totals:
    net: int = 0
    fee: int = 0

    @property
    def amount(self) -> int:
        return self.net + self.fee

    def __add__(self, other: Totals) -> Totals:
        return Totals(self.net + other.net, self.fee + other.fee)

    @property
    def zero(self) -> bool:
        return self.net == 0 and self.fee == 0


def stripe_totals(transactions: Iterable[BalanceTransaction]) -> Totals:
    return sum((Totals(t.net, t.fee) for t in transactions), Totals())


def ledger_totals(entries: Iterable[JournalEntry]) -> Totals:
    net = fee = 0
    for entry in entries:
        for line in entry.lines:
            if line.account is Account.STRIPE_BALANCE:
                net += line.amount
            elif line.account in FEE_ACCOUNTS:
                fee += line.amount
    return Totals(net, fee)


# --------------------------------------------------------------------------- the period


@dataclass(frozen=True)
class Period:
    """UTC days, both ends included."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def widened(self, days: int = 1) -> Period:
        return Period(self.first - timedelta(days=days), self.last + timedelta(days=days))

    def contains(self, day: str) -> bool:
        return self.first.isoformat() <= day <= self.last.isoformat()

    def bounds(self) -> tuple[int, int]:
        """Unix times: the first instant of the first day, and the first instant after the last."""
        start = datetime.combine(self.first, datetime.min.time(), UTC)
        end = datetime.combine(self.last + timedelta(days=1), datetime.min.time(), UTC)
        return int(start.timestamp()), int(end.timestamp())


def parse_period(first: object, last: object, *, today: date, max_days: int = MAX_PERIOD_DAYS) -> Period:
    """The period `first`..`last` (YYYY-MM-DD, UTC, inclusive): `last` not before `first`, not after
    `today`, at most `max_days` days. Raises ValidationFailed naming each bad field."""
    problems: list[FieldError] = []
    days: dict[str, date] = {}
    for name, value in (("from", first), ("to", last)):
        if not isinstance(value, str) or not _DAY.fullmatch(value):
            problems.append(FieldError(name, "must be a day as YYYY-MM-DD (UTC)"))
            continue
        try:
            days[name] = date.fromisoformat(value)
        except ValueError:
            problems.append(FieldError(name, "is not a calendar day"))
    if not problems:
        period = Period(days["from"], days["to"])
        if period.last < period.first:
            problems.append(FieldError("to", "must not be before `from`"))
        elif period.days > max_days:
            problems.append(FieldError("to", f"a run covers at most {max_days} days"))
        if period.last > today:
            problems.append(
                FieldError("to", f"must not be in the future (today, UTC, is {today.isoformat()})")
            )
    if problems:
        raise ValidationFailed(problems)
    return period


def parse_payout_id(payout_id: object) -> str:
    if not isinstance(payout_id, str) or not _PAYOUT_ID.fullmatch(payout_id):
        raise ValidationFailed([FieldError("payout_id", "must be a Stripe payout id (po_...)")])
    return payout_id


def period_run_id(period: Period) -> str:
    return f"rec_{period.first.isoformat()}_{period.last.isoformat()}"


def payout_run_id(payout_id: str) -> str:
    return f"rec_{payout_id}"


# --------------------------------------------------------------------------- matching


@dataclass(frozen=True)
class Difference:
    """One object's disagreement, with the ids on both sides."""

    difference_class: DifferenceClass
    currency: str
    stripe_object_id: str | None
    stripe_object_type: str | None
    stripe_transaction_ids: tuple[str, ...]
    ledger_entry_ids: tuple[str, ...]
    payment_id: str | None
    refund_id: str | None
    payout_id: str | None
    stripe: Totals
    ledger: Totals
    detail: str
    number: int = 0  # its place in the run (0-based), as stored

    @property
    def explained(self) -> bool:
        return self.difference_class in EXPLAINED


@dataclass(frozen=True)
class Outcome:
    """What one comparison found."""

    differences: tuple[Difference, ...]
    matched: int  # Stripe's balance transactions in the period that match our books exactly
    stripe_transactions: int  # Stripe's balance transactions in the period (in scope)
    ledger_entries: int  # our entries in the period (in scope)

    def counts(self) -> dict[str, int]:
        counts = {str(c): 0 for c in DifferenceClass}
        for difference in self.differences:
            counts[str(difference.difference_class)] += 1
        return counts

    @property
    def unexplained(self) -> int:
        return sum(1 for d in self.differences if not d.explained)


_Key = tuple[str, str]  # (Stripe object, or a stand-in for a line with none) and currency


def _stripe_key(transaction: BalanceTransaction) -> _Key:
    return (transaction.source_id or f"txn:{transaction.id}", transaction.currency)


def _ledger_key(entry: JournalEntry) -> _Key:
    return (entry.stripe_object_id or f"entry:{entry.entry_id}", entry.currency)


def intents_to_identify(
    transactions: Iterable[BalanceTransaction], entries: Iterable[JournalEntry]
) -> set[str]:
    """The PaymentIntents to ask Stripe about: those of sources our books do not hold and whose own
    metadata names no payment of ours (a refund made in the dashboard, a dispute)."""
    ours = {_ledger_key(e)[0] for e in entries}
    return {
        t.payment_intent_id
        for t in transactions
        if t.payment_intent_id and t.payment_id is None and _stripe_key(t)[0] not in ours
    }


def identify(
    transactions: Iterable[BalanceTransaction], owners: Mapping[str, str | None]
) -> list[BalanceTransaction]:
    """The transactions with the payment ids their PaymentIntents' metadata named (`owners`)."""
    return [
        replace(t, payment_id=owners.get(t.payment_intent_id))
        if t.payment_id is None and t.payment_intent_id is not None and t.payment_intent_id in owners
        else t
        for t in transactions
    ]


def reconcile(
    transactions: Iterable[BalanceTransaction],
    entries: Iterable[JournalEntry],
    period: Period,
    *,
    only: frozenset[str] | None = None,
) -> Outcome:
    """Compare both sides, read over `period.widened()`, for the objects with anything in `period`
    (with `only`: just those Stripe objects, e.g. a payout's).

    Per object and currency: the sums over the period equal -> matched; equal only over the widened
    period -> timing; otherwise, on the widened sums: no Stripe transaction -> missing_at_stripe; no
    money in our books -> missing_in_ledger (ours) or unknown_at_stripe; another amount ->
    amount_mismatch; the same amount -> fee_mismatch."""
    stripe_side: dict[_Key, list[BalanceTransaction]] = {}
    ledger_side: dict[_Key, list[JournalEntry]] = {}
    for transaction in transactions:
        stripe_side.setdefault(_stripe_key(transaction), []).append(transaction)
    for entry in entries:
        ledger_side.setdefault(_ledger_key(entry), []).append(entry)
    keys = set(stripe_side) | set(ledger_side)
    if only is not None:
        keys = {key for key in keys if key[0] in only}
    differences: list[Difference] = []
    matched = in_period_transactions = in_period_entries = 0
    for key in sorted(keys):
        s_all, l_all = stripe_side.get(key, []), ledger_side.get(key, [])
        s_in = [t for t in s_all if period.contains(t.day)]
        l_in = [e for e in l_all if period.contains(e.occurred_at[:10])]
        if not s_in and not l_in:
            continue  # another period's
        in_period_transactions += len(s_in)
        in_period_entries += len(l_in)
        if stripe_totals(s_in) == ledger_totals(l_in):
            matched += len(s_in)
            continue
        differences.append(_difference(key, s_all, l_all, period))
    ordered = sorted(differences, key=lambda d: (_ORDER[d.difference_class], d.currency, _sort_id(d)))
    return Outcome(
        differences=tuple(replace(d, number=n) for n, d in enumerate(ordered)),
        matched=matched,
        stripe_transactions=in_period_transactions,
        ledger_entries=in_period_entries,
    )


_ORDER = {c: n for n, c in enumerate(DifferenceClass)}


def _sort_id(difference: Difference) -> str:
    return difference.stripe_object_id or ",".join(difference.ledger_entry_ids)


def _difference(
    key: _Key, transactions: Sequence[BalanceTransaction], entries: Sequence[JournalEntry], period: Period
) -> Difference:
    stripe, ledger = stripe_totals(transactions), ledger_totals(entries)
    object_id = None if key[0].startswith(("txn:", "entry:")) else key[0]
    source_type = next((t.source_type for t in transactions if t.source_type), None)
    payment_id = next((t.payment_id for t in transactions if t.payment_id), None) or next(
        (e.payment_id for e in entries if e.payment_id), None
    )
    payout_id = next((e.payout_id for e in entries if e.payout_id), None)
    if payout_id is None and source_type == "payout":
        payout_id = object_id
    ours = payment_id is not None or payout_id is not None or bool(entries)
    if stripe == ledger:
        cls, detail = DifferenceClass.TIMING, _timing_detail(transactions, entries, period)
    elif not transactions:
        cls = DifferenceClass.MISSING_AT_STRIPE
        detail = "our books moved Stripe money for this object; Stripe has no balance transaction for it"
    elif ledger.zero:
        cls = DifferenceClass.MISSING_IN_LEDGER if ours else DifferenceClass.UNKNOWN_AT_STRIPE
        detail = (
            "Stripe moved money for one of our payments or payouts; our books hold none of it"
            if ours
            else "Stripe moved money for an object that names no payment of ours (e.g. made in the dashboard)"
        )
    elif stripe.amount != ledger.amount:
        cls = DifferenceClass.AMOUNT_MISMATCH
        detail = f"Stripe's amount is {stripe.amount}, ours {ledger.amount}"
    else:
        cls = DifferenceClass.FEE_MISMATCH
        detail = f"same amount; Stripe's fee is {stripe.fee}, ours {ledger.fee}"
    return Difference(
        difference_class=cls,
        currency=key[1],
        stripe_object_id=object_id,
        stripe_object_type=source_type,
        stripe_transaction_ids=tuple(sorted(t.id for t in transactions)),
        ledger_entry_ids=tuple(sorted(e.entry_id for e in entries)),
        payment_id=payment_id,
        refund_id=next((t.refund_id for t in transactions if t.refund_id), None),
        payout_id=payout_id,
        stripe=stripe,
        ledger=ledger,
        detail=detail,
    )


def _timing_detail(
    transactions: Sequence[BalanceTransaction], entries: Sequence[JournalEntry], period: Period
) -> str:
    outside = sorted(
        {t.day for t in transactions if not period.contains(t.day)}
        | {e.occurred_at[:10] for e in entries if not period.contains(e.occurred_at[:10])}
    )
    sides = []
    if any(not period.contains(t.day) for t in transactions):
        sides.append("Stripe's side")
    if any(not period.contains(e.occurred_at[:10]) for e in entries):
        sides.append("our side")
    counted = " and ".join(sides) or "a side"
    return f"matches once {counted} on {', '.join(outside)} (outside the period) is counted"


# --------------------------------------------------------------------------- payouts


@dataclass(frozen=True)
class PayoutCheck:
    """Whether a payout's transactions (all but its own) add up to the payout's amount."""

    status: Literal["balanced", "unbalanced", "unavailable"]
    payout_amount: int
    transactions_net: int
    transactions: int
    pending: tuple[str, ...] = ()
    reason: str = ""

    @property
    def difference(self) -> int:
        return self.payout_amount - self.transactions_net


def check_payout(payout: PayoutAtStripe, transactions: Sequence[BalanceTransaction]) -> PayoutCheck:
    paid_out = [t for t in transactions if t.source_id != payout.id]
    net = sum(t.net for t in paid_out)
    pending = tuple(sorted(t.id for t in paid_out if t.status != "available"))

    def check(status: Literal["balanced", "unbalanced", "unavailable"], reason: str = "") -> PayoutCheck:
        return PayoutCheck(status, payout.amount, net, len(paid_out), pending, reason)

    if not payout.automatic:
        return check(
            "unavailable", "a manual payout: Stripe lists the transactions of automatic payouts only"
        )
    if payout.reconciliation_status != "completed" and not paid_out:
        return check(
            "unavailable",
            f"Stripe has not finished reconciling the payout (reconciliation_status "
            f"{payout.reconciliation_status}): its transactions are not listed yet; run it again later",
        )
    if net == payout.amount:
        return check("balanced")
    reasons = [
        f"the transactions add up to {net}, the payout is {payout.amount} ({payout.amount - net} apart)"
    ]
    if pending:
        reasons.append(f"pending: {', '.join(pending)}")
    if payout.reconciliation_status != "completed":
        reasons.append(f"Stripe's reconciliation_status is {payout.reconciliation_status}")
    return check("unbalanced", "; ".join(reasons))


# --------------------------------------------------------------------------- runs


@dataclass(frozen=True)
class ReconciliationRun:
    """A run's summary. Its id derives from what it compares, so running the same period (or payout)
    again replaces its result; `attempt` counts the runs."""

    id: str
    kind: Literal["period", "payout"]
    status: RunStatus
    attempt: int
    started_at: str
    period_from: str | None = None
    period_to: str | None = None
    payout_id: str | None = None
    finished_at: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    currencies: tuple[str, ...] = ()
    stripe_transactions: int = 0
    ledger_entries: int = 0
    matched: int = 0
    counts: Mapping[str, int] = field(default_factory=dict)
    payout_check: PayoutCheck | None = None

    @classmethod
    def for_period(cls, period: Period, attempt: int, at: str) -> ReconciliationRun:
        return cls(
            id=period_run_id(period),
            kind="period",
            status=RunStatus.RUNNING,
            attempt=attempt,
            started_at=at,
            period_from=period.first.isoformat(),
            period_to=period.last.isoformat(),
        )

    @classmethod
    def for_payout(cls, payout_id: str, attempt: int, at: str) -> ReconciliationRun:
        return cls(
            id=payout_run_id(payout_id),
            kind="payout",
            status=RunStatus.RUNNING,
            attempt=attempt,
            started_at=at,
            payout_id=payout_id,
        )

    @property
    def unexplained(self) -> int:
        return sum(n for name, n in self.counts.items() if DifferenceClass(name) not in EXPLAINED)

    @property
    def differences_total(self) -> int:
        return sum(self.counts.values())

    def completed(
        self, outcome: Outcome, currencies: Iterable[str], at: str, payout_check: PayoutCheck | None = None
    ) -> ReconciliationRun:
        return replace(
            self,
            status=RunStatus.COMPLETED,
            finished_at=at,
            currencies=tuple(sorted(set(currencies))),
            stripe_transactions=outcome.stripe_transactions,
            ledger_entries=outcome.ledger_entries,
            matched=outcome.matched,
            counts=outcome.counts(),
            payout_check=payout_check,
        )

    def failed(self, code: str, message: str, at: str) -> ReconciliationRun:
        return replace(
            self, status=RunStatus.FAILED, finished_at=at, failure_code=code, failure_message=message
        )

    def event(self) -> DomainEvent:
        """ReconciliationCompleted for this run (one per attempt: `rec_...:v<attempt>`)."""
        data = ReconciliationData(
            run_id=self.id,
            period_from=self.period_from,
            period_to=self.period_to,
            payout_id=self.payout_id,
            status="completed" if self.status is RunStatus.COMPLETED else "failed",
            matched=self.matched,
            unexplained=self.unexplained,
            differences=dict(self.counts),
        )
        return DomainEvent(
            event_id=f"{self.id}:v{self.attempt}",
            event_type="ReconciliationCompleted",
            version=self.attempt,
            occurred_at=self.finished_at or self.started_at,
            customer_id=None,
            data=data.model_dump(mode="json"),
        )
