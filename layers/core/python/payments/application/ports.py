"""The ports the use cases depend on. Adapters implement them over DynamoDB, Stripe and EventBridge;
unit tests implement them in memory."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from payments.domain.events import DomainEvent
from payments.domain.ledger import JournalEntry
from payments.domain.payment import Change, IntentSnapshot, Payment
from payments.domain.payment_method import SavedPaymentMethod, StripePaymentMethod
from payments.domain.payout import Payout
from payments.domain.reconciliation import (
    BalanceTransaction,
    Difference,
    PayoutAtStripe,
    ReconciliationRun,
)
from payments.domain.refund import Refund, StripeRefund


@dataclass(frozen=True)
class Page:
    items: list[Payment]
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

    def list_by_customer(self, customer_id: str, limit: int, start: dict[str, Any] | None) -> Page: ...

    def list_by_status(self, status: str, limit: int, start: dict[str, Any] | None) -> Page: ...

    def stale(self, status: str, created_before: str, limit: int) -> list[Payment]:
        """Payments in `status` created before the moment, oldest first."""

    def mark_published(self, events: Sequence[DomainEvent]) -> None: ...

    def unpublished(self, older_than: str, limit: int) -> list[DomainEvent]: ...


class PaymentReader(Protocol):
    """What the query functions read (no bus, no writes)."""

    def get(self, payment_id: str) -> Payment | None: ...

    def get_with_refunds(self, payment_id: str) -> tuple[Payment | None, list[Refund]]:
        """The payment and its refunds as of one read."""

    def history(self, payment_id: str) -> list[DomainEvent]: ...

    def list_by_customer(self, customer_id: str, limit: int, start: dict[str, Any] | None) -> Page: ...

    def list_by_status(self, status: str, limit: int, start: dict[str, Any] | None) -> Page: ...


class PaymentGateway(Protocol):
    def snapshot_of(self, intent: dict[str, Any]) -> IntentSnapshot:
        """A PaymentIntent object as Stripe sends it (in an event) in our terms."""

    def create_intent(self, payment: Payment) -> IntentSnapshot: ...

    def fence_intent(self, payment: Payment) -> IntentSnapshot | None:
        """Take the payment's create key with an unconfirmed intent; None if the key was used."""

    def find_intents(self, payment: Payment) -> list[IntentSnapshot]:
        """Every intent whose metadata names the payment, oldest first."""

    def retrieve_intent(self, intent_id: str) -> IntentSnapshot: ...

    def capture_intent(self, payment: Payment) -> IntentSnapshot: ...

    def cancel_intent(
        self,
        payment: Payment,
        intent_id: str | None = None,
        reason: Literal["requested_by_customer", "abandoned", "duplicate"] = "requested_by_customer",
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


@dataclass(frozen=True)
class MethodPage:
    items: list[SavedPaymentMethod]
    next_key: dict[str, Any] | None


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

    def page(self, customer_id: str, limit: int, start: dict[str, Any] | None) -> MethodPage: ...

    def remove(self, method: SavedPaymentMethod) -> None: ...


class PaymentMethodGateway(Protocol):
    def create_customer(self, customer_id: str) -> str: ...

    def retrieve_payment_method(self, payment_method_id: str) -> StripePaymentMethod: ...

    def attach_payment_method(
        self, payment_method_id: str, stripe_customer_id: str
    ) -> StripePaymentMethod: ...

    def detach_payment_method(self, payment_method_id: str) -> None:
        """Detach; a method already detached (or gone) counts as done."""


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


@dataclass(frozen=True)
class RunPage:
    items: list[ReconciliationRun]
    next_key: dict[str, Any] | None


@dataclass(frozen=True)
class DifferencePage:
    items: list[Difference]
    next_key: dict[str, Any] | None


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

    def differences(self, run_id: str, limit: int, start: dict[str, Any] | None) -> DifferencePage: ...

    def with_all_differences(self, run_id: str) -> tuple[ReconciliationRun | None, list[Difference]]:
        """The run's summary and every stored difference, as of one read."""

    def page(self, limit: int, start: dict[str, Any] | None) -> RunPage:
        """Runs, the most recently started first."""
