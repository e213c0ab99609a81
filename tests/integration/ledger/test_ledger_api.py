"""GET /v1/ledger/balances and /v1/ledger/entries (admins): balances and the trial balance of what the
accounting subscriber booked, the journal paged oldest first over days and shards, and every refusal."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from payments import services
from payments.adapters.dynamodb.ledger import shard_of
from payments.domain.ledger import Account, JournalEntry, Line
from tests.integration.ledger.test_ledger import put_domain_event, refund_issued
from tests.support.api import call
from tests.support.stripe_webhooks import intent_of, pay

ADMIN = {"sub": "admin-1", "admin": True}


def day(offset: int = 0) -> str:
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


def around_today() -> str:
    """Yesterday to tomorrow: a test running over midnight still sees its entries."""
    return f"from={day(-1)}&to={day(1)}"


def test_balances_and_trial_balance_after_a_payment_a_refund_and_a_lost_dispute(stripe_chain, dispatcher):
    paid = pay()  # 100.00 usd, Stripe's fee 3.20 (docs/ledger.md's worked example)
    put_domain_event(refund_issued(paid, 3_000))
    dispute = stripe_chain.create_dispute(intent_of(paid["id"], stripe_chain)["id"], reason="fraudulent")
    stripe_chain.close_dispute(dispute["id"], won=False)
    assert stripe_chain.wait_for_webhooks(timeout=10)
    assert {d.outcome for d in dispatcher.drain()} == {"ok"}

    answer = call("GET", "/ledger/balances", query=f"currency=USD&{around_today()}", **ADMIN)

    assert answer.status == 200, answer.body
    body = answer.body
    assert (body["currency"], body["from"], body["to"]) == ("usd", day(-1), day(1))
    assert [a["account"] for a in body["accounts"]] == [str(account) for account in Account]  # the chart
    assert {a["account"]: a["balance"] for a in body["accounts"] if a["balance"]} == {
        "stripe_balance": -4_820,
        "sales": -10_000,
        "refunds": 3_000,
        "stripe_fees": 320,
        "dispute_fees": 1_500,
        "chargeback_losses": 10_000,
    }
    assert body["trial_balance"] == 0

    entries = call("GET", "/ledger/entries", query=f"currency=usd&{around_today()}", **ADMIN)
    assert entries.status == 200, entries.body
    assert entries.body["next_cursor"] is None
    data = entries.body["data"]
    assert {e["source"] for e in data} == {
        "PaymentProcessed",
        "RefundIssued",
        "ChargebackReceived",
        "DisputeClosed",
    }
    assert [e["occurred_at"] for e in data] == sorted(e["occurred_at"] for e in data)
    charge = next(e for e in data if e["source"] == "PaymentProcessed")
    assert charge["entry_id"] == f"{paid['id']}:v2"
    assert (charge["payment_id"], charge["payout_id"], charge["currency"]) == (paid["id"], None, "usd")
    assert charge["stripe_object_id"].startswith("ch_")
    assert {line["account"]: line["amount"] for line in charge["lines"]} == {
        "stripe_balance": 9_680,
        "stripe_fees": 320,
        "sales": -10_000,
    }


def entry(n: int, on: str, currency: str = "usd") -> JournalEntry:
    return JournalEntry(
        entry_id=f"pay_{n:04d}:v2",
        source="PaymentProcessed",
        payment_id=f"pay_{n:04d}",
        currency=currency,
        occurred_at=f"{on}T{n % 24:02d}:00:00.000Z",
        lines=(Line(Account.STRIPE_BALANCE, 100 + n), Line(Account.SALES, -100 - n)),
        stripe_object_id=f"ch_{n:04d}",
    )


def book_over_three_days() -> list[JournalEntry]:
    booked = [entry(n, day(n % 3 - 2)) for n in range(45)]
    for e in booked:
        assert services.ledger().record(e)
    services.ledger().record(entry(900, day(-1), currency="eur"))  # another currency: never listed
    return sorted(booked, key=lambda e: (e.occurred_at, e.entry_id))


def test_entries_page_oldest_first_across_days_and_shards(aws, emulator):
    booked = book_over_three_days()
    assert len({shard_of(e.entry_id) for e in booked}) >= 10  # the pages cross shards, not one

    seen, cursor, pages = [], None, 0
    while True:
        query = f"currency=usd&from={day(-2)}&to={day(0)}&limit=7" + (f"&cursor={cursor}" if cursor else "")
        page = call("GET", "/ledger/entries", query=query, **ADMIN)
        assert page.status == 200, page.body
        assert len(page.body["data"]) <= 7
        seen.extend(page.body["data"])
        pages += 1
        cursor = page.body["next_cursor"]
        if not cursor:
            break

    assert [e["entry_id"] for e in seen] == [e.entry_id for e in booked]
    assert pages == 7  # 45 entries, 7 a page
    balances = call("GET", "/ledger/balances", query=f"currency=usd&from={day(-2)}&to={day(0)}", **ADMIN)
    assert {a["account"]: a["balance"] for a in balances.body["accounts"] if a["balance"]} == {
        "stripe_balance": sum(100 + n for n in range(45)),
        "sales": -sum(100 + n for n in range(45)),
    }


def test_a_page_reads_at_most_a_month_of_days_then_hands_on_its_cursor(aws, emulator):
    old, recent = entry(1, day(-40)), entry(2, day(0))
    for e in (old, recent):
        services.ledger().record(e)
    period = f"currency=usd&from={day(-40)}&to={day(0)}&limit=100"

    first = call("GET", "/ledger/entries", query=period, **ADMIN).body
    assert [e["entry_id"] for e in first["data"]] == [old.entry_id]  # short: 31 days read
    assert first["next_cursor"]
    rest = call("GET", "/ledger/entries", query=f"{period}&cursor={first['next_cursor']}", **ADMIN).body
    assert ([e["entry_id"] for e in rest["data"]], rest["next_cursor"]) == ([recent.entry_id], None)


def test_one_day_s_entries_by_default(aws, emulator):
    book_over_three_days()
    today = call("GET", "/ledger/entries", query="currency=usd&limit=100", **ADMIN).body["data"]
    assert len(today) == 15
    assert {e["occurred_at"][:10] for e in today} == {day(0)}


def test_a_redelivered_entry_is_booked_once_on_its_shard(aws, emulator):
    first = entry(1, day(0))
    assert services.ledger().record(first) is True
    assert services.ledger().record(first) is False  # the same key: the conditional put refuses it
    items = aws["dynamodb"].scan(TableName="ledger")["Items"]
    assert [item["pk"]["S"] for item in items] == [f"JOURNAL#usd#{day(0)}#{shard_of(first.entry_id)}"]
    listed = call("GET", "/ledger/entries", query="currency=usd", **ADMIN).body["data"]
    assert [e["entry_id"] for e in listed] == [first.entry_id]


@pytest.mark.parametrize("path", ["/ledger/balances", "/ledger/entries"])
def test_a_customer_is_refused(aws, emulator, path):
    refused = call("GET", path, query="currency=usd")
    assert (refused.status, refused.body["code"]) == (403, "forbidden")


# Days as offsets from today, resolved when the test runs (make test-future moves the clock then).
@pytest.mark.parametrize("path", ["/ledger/balances", "/ledger/entries"])
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "query.currency"),  # required
        ("currency=xyz", "query.currency"),  # not a supported currency
        ("currency=usd&from=2026-13-01", "from"),
        ("currency=usd&from=20261201", "from"),  # one spelling: YYYY-MM-DD
        ("currency=usd&to=yesterday", "to"),
        ("currency=usd&from={-1}&to={-2}", "to"),  # before from
        ("currency=usd&from={-400}&to={-34}", "to"),  # 367 days
        ("currency=usd&from={1}&to={2}", "from"),  # in the future
    ],
)
def test_bad_parameters_name_the_field(aws, emulator, path, query, field):
    resolved = re.sub(r"\{(-?\d+)\}", lambda m: day(int(m.group(1))), query)
    refused = call("GET", path, query=resolved, **ADMIN)
    assert (refused.status, refused.body["code"]) == (400, "validation_error")
    assert [error["field"] for error in refused.body["errors"]] == [field]


def test_a_year_is_the_longest_period(aws, emulator):
    answer = call("GET", "/ledger/balances", query=f"currency=usd&from={day(-365)}&to={day(0)}", **ADMIN)
    assert answer.status == 200, answer.body  # 366 days, both ends included
    assert answer.body["trial_balance"] == 0


def test_the_cursor_is_bound_to_the_caller_and_the_query(aws, emulator):
    book_over_three_days()
    period = f"from={day(-2)}&to={day(0)}"
    first = call("GET", "/ledger/entries", query=f"currency=usd&{period}&limit=5", **ADMIN)
    cursor = first.body["next_cursor"]
    assert cursor

    for query, sub in [
        (f"currency=eur&{period}&limit=5", "admin-1"),  # another currency
        (f"currency=usd&from={day(-1)}&to={day(0)}&limit=5", "admin-1"),  # another period
        (f"currency=usd&{period}&limit=6", "admin-1"),  # another page size
        (f"currency=usd&{period}&limit=5", "admin-2"),  # another admin
    ]:
        refused = call("GET", "/ledger/entries", query=f"{query}&cursor={cursor}", sub=sub, admin=True)
        assert (refused.status, refused.body["code"]) == (400, "invalid_cursor"), query
    again = call("GET", "/ledger/entries", query=f"currency=usd&{period}&limit=5&cursor={cursor}", **ADMIN)
    assert again.status == 200
