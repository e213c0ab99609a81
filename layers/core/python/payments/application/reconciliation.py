"""Reconciliation runs: compare our ledger with Stripe's balance transactions for a period or a payout,
store the result under the run's id, announce it (ReconciliationCompleted) and count what it could not
explain (ReconciliationUnexplainedDifferences, alarmed). Matching and the classes of difference are
pure: payments/domain/reconciliation.py.

A run's id derives from its period or payout, so running it again replaces its result (the same
differences, no duplicates). A run whose Stripe read fails is stored `failed` with the reason, never as
complete, and the error is returned to the caller (the API answers it as a 5xx problem, the scheduled
function raises it so Lambda retries); running it again starts over.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from payments.application.clock import now, seconds_ago
from payments.application.ports import (
    EventPublisher,
    Ledger,
    Page,
    ReconciliationRuns,
    StripeBalance,
)
from payments.domain.errors import ConcurrentUpdate, Conflict, NotFound, PaymentsError, ProviderError
from payments.domain.ledger import JournalEntry
from payments.domain.reconciliation import (
    MAX_PERIOD_DAYS,
    MAX_STORED_DIFFERENCES,
    BalanceTransaction,
    Difference,
    Outcome,
    PayoutAtStripe,
    PayoutCheck,
    Period,
    ReconciliationRun,
    RunStatus,
    check_payout,
    identify,
    intents_to_identify,
    parse_payout_id,
    parse_period,
    payout_run_id,
    period_run_id,
    reconcile,
)
from payments.observability import count

UNEXPLAINED_METRIC = "ReconciliationUnexplainedDifferences"
# A run still `running` after this long is taken to have died (a timeout): another attempt may start.
STALE_RUN_SECONDS = 15 * 60


@dataclass(frozen=True)
class RunRequest:
    """What to reconcile: a period of UTC days, or one payout."""

    period: Period | None = None
    payout_id: str | None = None

    @property
    def run_id(self) -> str:
        if self.period is not None:
            return period_run_id(self.period)
        assert self.payout_id is not None
        return payout_run_id(self.payout_id)


def period_request(
    first: object, last: object, *, today: date | None = None, max_days: int = MAX_PERIOD_DAYS
) -> RunRequest:
    """A period run's request; ValidationFailed for a malformed day, `to` before `from`, a day in the
    future (today is allowed) or more than `max_days` days."""
    today = today or datetime.now(UTC).date()
    return RunRequest(period=parse_period(first, last, today=today, max_days=max_days))


def payout_request(payout_id: object) -> RunRequest:
    return RunRequest(payout_id=parse_payout_id(payout_id))


def yesterday() -> RunRequest:
    """What the daily schedule reconciles: yesterday (UTC), complete by now."""
    day = datetime.now(UTC).date() - timedelta(days=1)
    return RunRequest(period=Period(day, day))


@dataclass(frozen=True)
class RunResult:
    run: ReconciliationRun
    error: PaymentsError | None = None  # why a failed run failed (what the caller answers or raises)


@dataclass(frozen=True)
class Reconciler:
    stripe: StripeBalance
    ledger: Ledger
    runs: ReconciliationRuns
    publisher: EventPublisher
    currencies: frozenset[str]  # read from the ledger besides every currency Stripe's transactions name
    clock: Callable[[], str] = now

    def _start(self, request: RunRequest) -> ReconciliationRun:
        """The run's next attempt, stored as running. A first run is one conditional write; only when
        the run exists is its last attempt read, to take over from it."""
        previous: ReconciliationRun | None = None
        for first in (True, False):
            if not first:
                previous = self.runs.get(request.run_id)
            attempt = previous.attempt + 1 if previous else 1
            started = self.clock()
            run = (
                ReconciliationRun.for_period(request.period, attempt, started)
                if request.period is not None
                else ReconciliationRun.for_payout(request.payout_id or "", attempt, started)
            )
            if self.runs.start(run, previous, stale_before=seconds_ago(STALE_RUN_SECONDS)):
                return run
            if previous is not None:
                break
        # Not a final answer (idempotency keeps no ConcurrentUpdate): the same request may retry.
        raise ConcurrentUpdate(
            f"run {request.run_id} is already running; retry once it finished", run_id=request.run_id
        )

    def run(self, request: RunRequest) -> RunResult:
        payout = self._payout(request.payout_id) if request.payout_id else None  # 404 before storing
        run = self._start(request)
        try:
            outcome, currencies, check = (
                self._compare_period(request.period)
                if request.period is not None
                else self._compare_payout(payout)
            )
        except PaymentsError as error:
            return RunResult(self._fail(run, error), _for_caller(error, run))
        except Exception as error:
            self._fail(run, error)
            raise
        completed = run.completed(outcome, currencies, self.clock(), check)
        differences = outcome.differences[:MAX_STORED_DIFFERENCES]
        try:
            self.runs.complete(completed, differences)
        except Exception as error:
            self._fail(run, error)
            raise
        # Stored first: a failed publish raises, and running it again announces the next attempt.
        self.publisher.publish([completed.event()])
        count(UNEXPLAINED_METRIC, completed.unexplained)
        return RunResult(completed)

    # ------------------------------------------------------------------ the two sides

    def _payout(self, payout_id: str) -> PayoutAtStripe:
        try:
            payout = self.stripe.payout(payout_id)
        except PaymentsError as error:
            raise _for_caller(error, None) from error
        if payout is None:
            raise NotFound(f"payout {payout_id} not found at Stripe", param="payout_id")
        return payout

    def _compare_period(self, period: Period) -> tuple[Outcome, set[str], None]:
        widened = period.widened()
        transactions = self.stripe.transactions(*widened.bounds())
        currencies = {t.currency for t in transactions} | set(self.currencies)
        entries = self._entries(currencies, widened)
        transactions = self._identified(transactions, entries)
        return reconcile(transactions, entries, period), currencies, None

    def _compare_payout(self, payout: PayoutAtStripe | None) -> tuple[Outcome, set[str], PayoutCheck]:
        """The payout's objects (what it paid out, and itself) against our entries for them, booked
        from the day before its first transaction to the day after it was made (a payout sweeps what
        became available before it)."""
        assert payout is not None
        transactions = self.stripe.payout_transactions(payout)
        days = [t.day for t in transactions] + [payout.day]
        period = Period(date.fromisoformat(min(days)), date.fromisoformat(max(days)))
        currencies = {t.currency for t in transactions} | {payout.currency}
        entries = self._entries(currencies, period.widened())
        transactions = self._identified(transactions, entries)
        objects = frozenset(t.source_id or f"txn:{t.id}" for t in transactions) | {payout.id}
        outcome = reconcile(transactions, entries, period, only=objects)
        return outcome, currencies, check_payout(payout, transactions)

    def _entries(self, currencies: Collection[str], period: Period) -> list[JournalEntry]:
        first, last = period.first.isoformat(), period.last.isoformat()
        return [
            entry for currency in sorted(currencies) for entry in self.ledger.entries(currency, first, last)
        ]

    def _identified(
        self, transactions: list[BalanceTransaction], entries: list[JournalEntry]
    ) -> list[BalanceTransaction]:
        """Sources our books do not hold and whose metadata names no payment: whose PaymentIntent is it?"""
        intents = intents_to_identify(transactions, entries)
        owners = {intent: self.stripe.payment_id_of_intent(intent) for intent in sorted(intents)}
        return identify(transactions, owners)

    def _fail(self, run: ReconciliationRun, error: Exception) -> ReconciliationRun:
        code = error.code if isinstance(error, PaymentsError) else "internal_error"
        message = (
            error.detail if isinstance(error, PaymentsError) else f"{type(error).__name__}: the run stopped"
        )
        failed = run.failed(code, message, self.clock())
        self.runs.fail(failed)
        return failed


def _for_caller(error: PaymentsError, run: ReconciliationRun | None) -> PaymentsError:
    """Stripe's error as the caller gets it: a refusal of one of our reads is our fault, not the
    caller's (a 5xx, never kept by idempotency, so the same request runs again)."""
    if not (error.status >= 500 or error.status == 429):
        error = ProviderError(f"the payment provider refused a reconciliation read ({error.code})")
    if run is not None:
        error.extra.update(run_id=run.id, run_status=str(RunStatus.FAILED))
    return error


# --------------------------------------------------------------------------- reads


def list_runs(runs: ReconciliationRuns, limit: int, start: dict[str, Any] | None) -> Page[ReconciliationRun]:
    return runs.page(limit, start)


def get_run(runs: ReconciliationRuns, run_id: str) -> ReconciliationRun:
    run = runs.get(run_id)
    if run is None:
        raise NotFound(f"reconciliation run {run_id} not found", run_id=run_id)
    return run


def run_with_differences(
    runs: ReconciliationRuns, run_id: str, limit: int, start: dict[str, Any] | None
) -> tuple[ReconciliationRun, Page[Difference]]:
    """The run and a page of its differences (none unless it completed: an unfinished or failed
    attempt's are not its result)."""
    run = get_run(runs, run_id)
    if run.status is not RunStatus.COMPLETED:
        return run, Page([], None)
    return run, runs.differences(run_id, limit, start)


def all_differences(runs: ReconciliationRuns, run_id: str) -> tuple[ReconciliationRun, list[Difference]]:
    """Every difference of a completed run (one read of both); Conflict while it runs or after it failed."""
    run, differences = runs.with_all_differences(run_id)
    if run is None:
        raise NotFound(f"reconciliation run {run_id} not found", run_id=run_id)
    if run.status is not RunStatus.COMPLETED:
        raise Conflict(
            "reconciliation_not_completed",
            f"run {run_id} is {run.status}: it has no differences to export; run it again",
            run_id=run_id,
        )
    return run, differences
