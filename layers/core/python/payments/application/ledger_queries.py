"""The ledger's read side (admins): a currency's balances and trial balance over a period, and its
journal page by page. The API's routes are admin-only in the catalog; see docs/ledger.md."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from payments.application.accounting import account_balances
from payments.application.clock import now
from payments.application.ports import Ledger
from payments.domain.errors import FieldError, ValidationFailed
from payments.domain.ledger import Account, JournalEntry

# A year, a leap one included: each day is SHARDS queries, so the period is bounded.
MAX_PERIOD_DAYS = 366
# date.fromisoformat also takes 20261201 and 2026-W48-2; the API takes one spelling.
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Period:
    currency: str
    first_day: str  # YYYY-MM-DD, UTC, inclusive
    last_day: str


def ledger_period(currency: str, first_day: str | None, last_day: str | None) -> Period:
    """The period asked for (each day defaults to today, UTC), or every reason it cannot be read."""
    today = date.fromisoformat(now()[:10])
    errors: list[FieldError] = []
    first, last = _day("from", first_day, today, errors), _day("to", last_day, today, errors)
    if first is not None and first > today:
        errors.append(FieldError("from", "must not be in the future (UTC)"))
    if first is not None and last is not None:
        if last < first:
            errors.append(FieldError("to", "must not be before `from`"))
        elif (last - first).days >= MAX_PERIOD_DAYS:
            errors.append(FieldError("to", f"the period is at most {MAX_PERIOD_DAYS} days"))
    if errors or first is None or last is None:
        raise ValidationFailed(errors)
    return Period(currency, first.isoformat(), last.isoformat())


def _day(name: str, value: str | None, today: date, errors: list[FieldError]) -> date | None:
    if value is None:
        return today
    if _DAY.fullmatch(value):
        with contextlib.suppress(ValueError):  # 2026-02-30
            return date.fromisoformat(value)
    errors.append(FieldError(name, "must be a day as YYYY-MM-DD"))
    return None


@dataclass(frozen=True)
class BalanceReport:
    period: Period
    balances: dict[Account, int]  # every account of the chart, in its order; debit positive

    @property
    def trial_balance(self) -> int:
        """Their sum: zero, since every entry balances (anything else is a bug in the books)."""
        return sum(self.balances.values())


def balance_report(ledger: Ledger, period: Period) -> BalanceReport:
    found = account_balances(ledger, period.currency, period.first_day, period.last_day)
    return BalanceReport(period, {account: found.get(account, 0) for account in Account})


@dataclass(frozen=True)
class JournalPage:
    entries: list[JournalEntry]
    next_key: dict[str, Any] | None  # the store's own continuation key; the HTTP layer signs it


def journal_page(ledger: Ledger, period: Period, limit: int, start: dict[str, Any] | None) -> JournalPage:
    """The period's entries, oldest first, `limit` at a time."""
    entries, next_key = ledger.page(period.currency, period.first_day, period.last_day, limit, start)
    return JournalPage(entries, next_key)
