"""The ports the use cases depend on. Adapters implement them over DynamoDB, Stripe and EventBridge;
unit tests implement them in memory."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, NamedTuple, Protocol, TypeVar

from payments.domain.dispute import DisputeRecord, EvidenceFile
from payments.domain.events import DomainEvent
from payments.domain.fraud_signals import StripeFraudWarning, StripeReview
from payments.domain.ledger import JournalEntry
from payments.domain.order import OrderTerms
from payments.domain.payment import Change, IntentSnapshot, Payment
from payments.domain.payment_method import SavedPaymentMethod, SetupSnapshot, StripePaymentMethod
from payments.domain.payout import Payout
from payments.domain.reconciliation import (
    BalanceTransaction,
    Difference,
    PayoutAtStripe,
    ReconciliationRun,
)
from payments.domain.refund import Refund, StripeRefund
from payments.domain.risk import CardFacts, Decision, RiskDecision, RiskReason
from payments.domain.risk_rules import AuditRecord, BlocklistEntry, BlocklistKind, ExternalHook, RiskRules

# Why a PaymentIntent is canceled, in Stripe's words (fraudulent: our review rejected the payment).
CancelReason = Literal["requested_by_customer", "abandoned", "duplicate", "fraudulent"]


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing, from any store."""

    items: list[T]
    next_key: dict[str, Any] | None  # the store's own continuation key; the HTTP layer signs it


@dataclass(frozen=True)
class MethodOwner:
    customer_id: str
    stripe_customer_id: str


@dataclass(frozen=True)
class RefundWrite:
    """A refund record that commits atomically with its payment's change: written only if the stored
    record is still `previous` (by status), or absent when `previous` is None."""

    refund: Refund
    previous: Refund | None


class PaymentRepository(Protocol):
    def get(self, payment_id: str) -> Payment | None: ...

    def get_with_refunds(self, payment_id: str) -> tuple[Payment | None, list[Refund]]: ...

    def create(self, change: Change) -> bool:
        """Insert a new payment with its first event and claim its order; False when a payment with
        its id exists already, raises on other conflicts (the order is someone else's)."""

    def save(self, change: Change, refunds: Sequence[RefundWrite] = ()) -> None:
        """Commit `change` (and `refunds`) if the stored version is still `change.payment.version - 1`;
        raises ConcurrentUpdate when it is not, or when a refund's condition fails."""

    def history(self, payment_id: str) -> list[DomainEvent]: ...

    def list_by_customer(
        self, customer_id: str, limit: int, start: dict[str, Any] | None
    ) -> Page[Payment]: ...

    def list_by_status(self, status: str, limit: int, start: dict[str, Any] | None) -> Page[Payment]: ...

    def payment_of_order(self, order_id: str) -> Payment | None:
        """As PaymentReader.payment_of_order."""

    def stale(self, status: str, created_before: str, limit: int) -> list[Payment]:
        """Payments in `status` created before the moment, oldest first."""

    def held_for_review(self, opened_before: str, limit: int) -> list[Payment]:
        """Payments our review hold keeps authorized (Payment.hold_opened_at) whose hold opened before
        the moment, oldest first."""

    def mark_published(self, events: Sequence[DomainEvent]) -> None: ...

    def unpublished(self, older_than: str, limit: int) -> list[DomainEvent]: ...


class PaymentReader(Protocol):
    """What the query functions read (no bus, no writes)."""

    def get(self, payment_id: str) -> Payment | None: ...

    def get_with_refunds(self, payment_id: str) -> tuple[Payment | None, list[Refund]]:
        """The payment and its refunds as of one read."""

    def history(self, payment_id: str) -> list[DomainEvent]: ...

    def list_by_customer(
        self, customer_id: str, limit: int, start: dict[str, Any] | None
    ) -> Page[Payment]: ...

    def list_by_status(self, status: str, limit: int, start: dict[str, Any] | None) -> Page[Payment]: ...

    def payment_of_order(self, order_id: str) -> Payment | None:
        """The payment the order's claim names: its live payment, or, when none is live, the last one
        that claimed it (failed or canceled). None: no payment ever claimed the order. Earlier payments
        a later one replaced on the claim are not found this way."""


class PaymentGateway(Protocol):
    def snapshot_of(self, intent: dict[str, Any]) -> IntentSnapshot:
        """A PaymentIntent object as Stripe sends it (in an event) in our terms."""

    def create_intent(self, payment: Payment) -> IntentSnapshot: ...

    def fence_intent(self, payment: Payment) -> IntentSnapshot | None:
        """Take the payment's create key with an unconfirmed intent; None if the key was used."""

    def find_intents(self, payment: Payment) -> list[IntentSnapshot]:
        """Every intent whose metadata names the payment, oldest first."""

    def retrieve_intent(self, intent_id: str) -> IntentSnapshot: ...

    def capture_intent(self, payment: Payment, amount: int) -> IntentSnapshot:
        """Capture `amount` of the payment's authorization; Stripe releases the rest."""

    def cancel_intent(
        self,
        payment: Payment,
        intent_id: str | None = None,
        reason: CancelReason = "requested_by_customer",
        round_: int = 0,
    ) -> IntentSnapshot: ...

    def refund_intent(self, payment: Payment, intent_id: str) -> None:
        """Refund everything a stray intent captured."""


class EventPublisher(Protocol):
    def publish(self, events: Sequence[DomainEvent]) -> None:
        """Deliver every event or raise; partial failures raise too."""


class PaymentMethodOwners(Protocol):
    def owner_of(self, payment_method_id: str) -> MethodOwner | None:
        """Who saved this Stripe payment method with us, if anyone."""


class OrderTokens(Protocol):
    def verify(self, token: str) -> OrderTerms:
        """The terms of a token the Order Service signed with one of its current keys, within its times
        and from the expected issuer; raises OrderTokenRejected (its code says why) for anything else."""


class RefundRepository(Protocol):
    """REFUND# records; writes are conditioned on the status they replace (see commit_refund)."""

    def get(self, payment_id: str, refund_id: str) -> Refund | None: ...

    def with_payment(self, payment_id: str, refund_id: str) -> tuple[Payment | None, Refund | None]:
        """The payment and one of its refunds as of one moment (one consistent read of both)."""

    def of_payment(self, payment_id: str) -> list[Refund]: ...

    def awaiting_stripe(self, created_before: str, limit: int) -> list[Refund]:
        """Refunds reserved before the moment that Stripe has not answered yet, oldest first."""

    def save_alone(self, refund: Refund, previous: Refund) -> None:
        """A change of the record only (the payment is unaffected); raises RefundChanged on a race."""


class PayoutRepository(Protocol):
    """PAYOUT# records: what Stripe told us of each payout."""

    def get(self, payout_id: str) -> Payout | None: ...

    def save(self, payout: Payout) -> None:
        """Store `payout` if the stored version is still `payout.version - 1` (absent for version 1);
        raises ConcurrentUpdate when it is not."""


class RefundGateway(Protocol):
    def create_refund(self, payment: Payment, refund: Refund) -> StripeRefund: ...

    def find_refund(self, payment: Payment, refund: Refund) -> StripeRefund | None:
        """The Stripe refund whose metadata names `refund`, if one exists."""

    def payment_id_of_intent(self, intent_id: str) -> str | None:
        """Our payment id from a PaymentIntent's metadata (None: not one of ours)."""


class RadarSignals(Protocol):
    """Stripe Radar's objects as Stripe has them now, each with our payment id from its PaymentIntent's
    metadata (one read); None when Stripe has no such object."""

    def review(self, review_id: str) -> StripeReview | None: ...

    def early_fraud_warning(self, warning_id: str) -> StripeFraudWarning | None: ...


# --------------------------------------------------------------------------- disputes (admins)


class DisputeRecords(Protocol):
    """The admins' read model: one DISPUTE# record per dispute, listed by status, soonest due first."""

    def get(self, dispute_id: str) -> DisputeRecord | None: ...

    def save(self, record: DisputeRecord) -> None:
        """Store `record` if the stored version is still `record.version - 1` (absent for version 1);
        raises ConcurrentUpdate when it is not."""

    def page(self, status: str, limit: int, start: dict[str, Any] | None) -> Page[DisputeRecord]:
        """Records in `status`, the soonest due first (those without a deadline last)."""

    def due_before(self, status: str, before: int) -> list[DisputeRecord]:
        """Every record in `status` due before `before` (Unix seconds), soonest first."""


@dataclass(frozen=True)
class EvidenceUpload:
    field: str  # the evidence field it answers (a file field)
    filename: str
    content: bytes


class DisputeGateway(Protocol):
    """Stripe's disputes and the Files API. Each command's idempotency key comes from the caller."""

    def retrieve_dispute(self, dispute_id: str) -> dict[str, Any] | None:
        """The dispute as Stripe has it now (None: Stripe has none with this id)."""

    def upload_evidence(self, upload: EvidenceUpload, idempotency_key: str) -> EvidenceFile:
        """Upload a file (purpose dispute_evidence): the File id and what Stripe made of it."""

    def update_evidence(
        self, dispute_id: str, evidence: Mapping[str, str], submit: bool, idempotency_key: str
    ) -> dict[str, Any]:
        """Stage the evidence (submit False) or stage and submit it: the dispute after."""

    def close_dispute(self, dispute_id: str, idempotency_key: str) -> dict[str, Any]:
        """Accept the dispute (Stripe closes it lost): the dispute after."""


@dataclass(frozen=True)
class BeforeSave:
    """What saving a method needs to know about it and the caller, read at once."""

    owner: MethodOwner | None  # who saved this Stripe payment method with us, if anyone
    stripe_customer: str | None  # the caller's Stripe customer, once created
    method: SavedPaymentMethod | None  # the caller's record of this very method
    card_holder: str | None  # the caller's method that holds the same card and expiry


class PaymentMethodRepository(PaymentMethodOwners, Protocol):
    def before_save(self, customer_id: str, payment_method_id: str, card_key: str | None) -> BeforeSave: ...

    def remember_stripe_customer(self, customer_id: str, stripe_customer_id: str, at: str) -> str:
        """Keep the first Stripe customer recorded for `customer_id` and return it."""

    def get(self, customer_id: str, payment_method_id: str) -> SavedPaymentMethod | None: ...

    def add(self, method: SavedPaymentMethod) -> None:
        """Store the method and its owner; raises SameCardSaved if the card is already saved."""

    def page(
        self, customer_id: str, limit: int, start: dict[str, Any] | None
    ) -> Page[SavedPaymentMethod]: ...

    def record_setup(self, method: SavedPaymentMethod) -> None:
        """Store the method's off-session setup (its SetupIntent and whether it succeeded)."""

    def remove(self, method: SavedPaymentMethod) -> None: ...


class PaymentMethodGateway(Protocol):
    def create_customer(self, customer_id: str) -> str: ...

    def retrieve_payment_method(self, payment_method_id: str) -> StripePaymentMethod: ...

    def attach_payment_method(
        self, payment_method_id: str, stripe_customer_id: str
    ) -> StripePaymentMethod: ...

    def detach_payment_method(self, payment_method_id: str) -> None:
        """Detach; a method already detached (or gone) counts as done."""

    def set_up_off_session(self, method: SavedPaymentMethod) -> SetupSnapshot:
        """A confirmed SetupIntent (usage off_session) for the saved method and its Stripe customer:
        the customer's consent to off-session payments, which may ask them to authenticate. Keyed by
        the method's previous setup, so a retry replays it and a setup after a failed one is new."""

    def retrieve_setup(self, setup_intent_id: str) -> SetupSnapshot: ...


# --------------------------------------------------------------------------- Stripe webhooks and ledger


class StripeEventForwarder(Protocol):
    def fits(self, event: dict[str, Any]) -> bool:
        """Whether the event fits in one bus entry as it is."""

    def forward(self, event: dict[str, Any]) -> None:
        """Put the Stripe event on the bus or raise."""


class Deduplicator(Protocol):
    def first_time(self, key: str, action: Callable[[], None], lambda_context: Any = None) -> bool:
        """Run `action` unless it already ran for `key`: True when it ran now, False for a repeat.

        Raises RequestInProgress while another attempt holds `key`. A failed `action` is not
        remembered, so a retry runs it again."""


class StripeEventSource(Protocol):
    def retrieve_event(self, event_id: str) -> dict[str, Any]:
        """The whole event as Stripe keeps it (the webhook may have forwarded a slimmed copy)."""


class Ledger(Protocol):
    def record(self, entry: JournalEntry) -> bool:
        """Book the entry unless one with its id exists; False when it did (a repeat)."""

    def entries(self, currency: str, first_day: str, last_day: str) -> list[JournalEntry]:
        """Entries in `currency` booked on these days (YYYY-MM-DD, UTC, inclusive), oldest first."""

    def page(
        self, currency: str, first_day: str, last_day: str, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[JournalEntry], dict[str, Any] | None]:
        """Up to `limit` of those entries, oldest first, from `start` (None: the first); with the store's
        key of the next page (None: there is none), which the HTTP layer signs. A page may come back
        short, even empty, before the end: the store bounds what one page reads."""


# --------------------------------------------------------------------------- reconciliation


class StripeBalance(Protocol):
    """Stripe's balance transactions and payouts, read for reconciliation (never written)."""

    def transactions(self, created_from: int, created_before: int) -> list[BalanceTransaction]:
        """Every balance transaction created in [created_from, created_before) (Unix times), each with
        what its source says about us; every page, or raise."""

    def payout(self, payout_id: str) -> PayoutAtStripe | None:
        """The payout; None when Stripe has none with this id."""

    def payout_transactions(self, payout: PayoutAtStripe) -> list[BalanceTransaction]:
        """The payout's own transactions and, for an automatic payout, what it paid out."""

    def payment_id_of_intent(self, intent_id: str) -> str | None:
        """Our payment id from a PaymentIntent's metadata (None: not one of ours)."""


class ReconciliationRuns(Protocol):
    """Each run's summary and differences, stored under the run's id."""

    def get(self, run_id: str) -> ReconciliationRun | None: ...

    def start(self, run: ReconciliationRun, previous: ReconciliationRun | None, stale_before: str) -> bool:
        """Store `run` (running) in place of `previous` (None: the first attempt); False when another
        attempt took it first or one is still running since after `stale_before`."""

    def complete(self, run: ReconciliationRun, differences: Sequence[Difference]) -> None:
        """Store the differences, drop those an earlier attempt left beyond them, then the summary
        (only if `run` is still the run's latest attempt)."""

    def fail(self, run: ReconciliationRun) -> None:
        """Store the failed summary (only if `run` is still the run's latest attempt)."""

    def differences(self, run_id: str, limit: int, start: dict[str, Any] | None) -> Page[Difference]: ...

    def with_all_differences(self, run_id: str) -> tuple[ReconciliationRun | None, list[Difference]]:
        """The run's summary and every stored difference, as of one read."""

    def page(self, limit: int, start: dict[str, Any] | None) -> Page[ReconciliationRun]:
        """Runs, the most recently started first."""


# --------------------------------------------------------------------------- risk rules and blocklist


class RiskPolicy(Protocol):
    """What the pre-authorization checks read: the rules and the blocklist ops keep (domain/risk_rules.py)."""

    def rules(self) -> RiskRules:
        """The rules in force (the defaults until an admin stores some), cached briefly in the function
        (settings().risk_rules_cache_seconds): a change applies within that time."""

    def blocklisted(self, candidates: Mapping[BlocklistKind, Iterable[str]], at: str) -> list[BlocklistEntry]:
        """The entries that block any of these values (e.g. {"card_bin": ["424242", "42424242"]}) and are
        still in force at `at`; one read of exactly those keys. A value that cannot be of its kind
        (blocklist_value_problem) matches nothing."""


@dataclass(frozen=True)
class StoredRules:
    """The stored rules and their last change (None where the defaults are in force)."""

    rules: RiskRules
    change_id: str | None = None
    changed_at: str | None = None
    changed_by: str | None = None


@dataclass(frozen=True)
class BlocklistRecord:
    """An entry by its id; `removed` is the audit of its removal once it is removed (kept a while, so a
    retried removal finds it)."""

    entry: BlocklistEntry
    added: AuditRecord
    removed: AuditRecord | None = None


class RiskAdmin(Protocol):
    """The admin API's reads and writes of the rules and the blocklist. Every write commits with its
    AuditRecord, in one transaction."""

    def stored_rules(self) -> StoredRules:
        """The rules as stored now (a consistent read, never cached)."""

    def replace_rules(self, rules: RiskRules, audit: AuditRecord) -> None:
        """Store `rules` if the stored version is still `rules.version - 1` (0: none stored); raises
        Conflict `rules_version_stale` when it is not."""

    def record(self, entry_id: str) -> BlocklistRecord | None: ...

    def add_entry(self, entry: BlocklistEntry, audit: AuditRecord) -> bool:
        """Store the entry unless one for the same kind and value is in force at entry.created_at
        (raises Conflict `blocklist_entry_exists` with that entry's id); False when an entry with its
        id exists already (an earlier attempt of the same request stored it)."""

    def remove_entry(self, record: BlocklistRecord, audit: AuditRecord) -> None:
        """Remove the entry (raises ConcurrentUpdate when it changed since it was read)."""

    def entries(
        self, kind: BlocklistKind | None, at: str, limit: int, start: dict[str, Any] | None
    ) -> Page[BlocklistEntry]:
        """Entries in force at `at`, of one kind or all, by kind and newest first. A page may come back
        short, even empty, before the end (expired entries are skipped after they are read)."""

    def audit(self, limit: int, start: dict[str, Any] | None) -> Page[AuditRecord]:
        """The audit trail, newest first."""


class HookVerdict(NamedTuple):
    decision: Decision
    reasons: tuple[RiskReason, ...]


class ExternalRiskHook(Protocol):
    def assess(self, hook: ExternalHook, facts: Mapping[str, Any]) -> HookVerdict:
        """The external service's decision on the payment's facts (JSON values), within
        hook.timeout_ms and asked once; raises RiskHookFailed on a timeout, an error or an answer
        that is not a verdict (the caller applies hook.on_failure)."""


# --------------------------------------------------------------------------- checks before Stripe


@dataclass(frozen=True)
class BeforePayment:
    """What a payment request reads before deciding anything, at once: an earlier attempt with its id,
    who saved its payment method with us, and the caller's own record of that method."""

    earlier: Payment | None
    owner: MethodOwner | None
    saved: SavedPaymentMethod | None


class PaymentStart(Protocol):
    def before_payment(self, payment_id: str, customer_id: str, payment_method_id: str) -> BeforePayment: ...


@dataclass(frozen=True)
class Attempt:
    """A payment attempt as the checks see it, before anything is written."""

    payment_id: str
    customer_id: str
    amount: int
    currency: str
    payment_method_id: str
    source_ip: str | None  # API Gateway's requestContext.identity.sourceIp; None: not the customer's own
    saved_card: CardFacts | None  # the caller's saved card; None: a one-off method (Stripe is asked)


class PreAuthorization(Protocol):
    """The checks that run before the write-ahead call to Stripe (application/risk.py)."""

    def assess(self, attempt: Attempt) -> RiskDecision:
        """Allow, review or block, with every reason. Counts the attempt (velocity), so it runs once per
        payment: a retry finds the decision on the payment."""

    def record_decline(self, payment: Payment) -> None:
        """Count the payment's decline, once per payment whatever calls it (a repeated webhook)."""


VelocityKind = Literal["customer", "card", "ip"]


@dataclass(frozen=True)
class Subject:
    """What a velocity counter counts: one customer, one card (its fingerprint) or one source address."""

    kind: VelocityKind
    value: str


@dataclass(frozen=True)
class VelocityHistory:
    """One subject's attempts and declines per minute and the cards it used per hour, as its counter
    stood once this attempt was counted (itself included). Windows are whole minutes (hours for cards)
    ending with the attempt's: a window of W seconds counts the last ceil(W / 60) minutes."""

    minute: int  # the attempt's minute, since the epoch
    attempts: Mapping[int, int] = field(default_factory=dict)  # minute -> attempts
    declines: Mapping[int, int] = field(default_factory=dict)  # minute -> declines
    cards: Mapping[int, frozenset[str]] = field(default_factory=dict)  # hour -> cards (hashed)

    def attempts_within(self, seconds: int) -> int:
        return _sum_since(self.attempts, self.minute - -(-seconds // 60) + 1)

    def declines_within(self, seconds: int) -> int:
        return _sum_since(self.declines, self.minute - -(-seconds // 60) + 1)

    def cards_within(self, seconds: int) -> int:
        first = self.minute // 60 - -(-seconds // 3600) + 1
        return len(frozenset().union(*(cards for hour, cards in self.cards.items() if hour >= first)))


def _sum_since(counts: Mapping[int, int], first: int) -> int:
    return sum(count for slot, count in counts.items() if slot >= first)


@dataclass(frozen=True)
class DayTotal:
    accepted: bool  # False: the amount would have taken the day's total over the limit (nothing added)
    total: int  # the day's total after the amount (accepted) or as it stands (refused)


@dataclass(frozen=True)
class DayAmount:
    """An amount in a customer's total of one UTC day (YYYY-MM-DD)."""

    customer_id: str
    day: str
    currency: str
    amount: int


class VelocityCounters(Protocol):
    """Atomic counters with a time to live (adapters/dynamodb/velocity.py)."""

    def count_attempt(
        self, windows: Mapping[Subject, int], card: str | None, at: str
    ) -> dict[Subject, VelocityHistory]:
        """Count one attempt for each subject (and `card`, a card's fingerprint, among the cards of each
        subject but a card), then each subject's history over its window (seconds). Concurrent
        attempts each see a count of their own: the Nth in a window sees N."""

    def add_to_day(self, amount: DayAmount, limit: int) -> DayTotal:
        """Add the amount to the customer's total of its day and currency unless the total would then
        exceed `limit`; atomic."""

    def record_decline(
        self, payment_id: str, subjects: Sequence[Subject], at: str, give_back: DayAmount | None
    ) -> bool:
        """Count a decline for each subject and take `give_back` off its day's total: once per payment
        id, atomically. False: it was counted already."""
