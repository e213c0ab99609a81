"""Reconciliation runs end to end: money moved through the API, the Stripe emulator, its signed webhooks,
the bus and the subscribers into the ledger; then POST /v1/reconciliation/runs compares the ledger with
Stripe's balance transactions, and every discrepancy the emulator can inject is found with the ids on
both sides."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from payments.adapters.stripe import balance
from tests.integration.reconciliation.conftest import (
    TABLE,
    admin,
    completed,
    differences,
    settle,
    start,
    stored,
)
from tests.support.api import call
from tests.support.bus import put
from tests.support.stripe_webhooks import bus_sample, intent_of, pay


def charge_of(emulator: Any, payment_id: str) -> dict[str, Any]:
    (charge,) = [c for c in emulator.charges() if c["metadata"].get("payment_id") == payment_id]
    return dict(charge)


def entry_ids(aws: dict[str, Any], payment_id: str) -> list[str]:
    items = aws["dynamodb"].scan(TableName="ledger")["Items"]
    return sorted(i["entry_id"]["S"] for i in items if i.get("payment_id", {}).get("S") == payment_id)


def refund(payment_id: str, amount: int) -> None:
    response = admin("POST", f"/payments/{payment_id}/refunds", body={"amount": amount})
    assert response.status == 201, response.body


# --------------------------------------------------------------------------- a clean day


def test_a_payment_a_partial_refund_and_a_dispute_reconcile_without_a_difference(
    stripe_chain, dispatcher, bus, today, emitted_metrics
):
    paid = pay()
    refund(paid["id"], 3_000)
    dispute = stripe_chain.create_dispute(intent_of(paid["id"], stripe_chain)["id"], reason="fraudulent")
    stripe_chain.close_dispute(dispute["id"], won=False)
    settle(stripe_chain, dispatcher)

    run = completed(today())

    lines = stripe_chain.balance_transactions()
    assert sorted(line["type"] for line in lines) == ["adjustment", "charge", "refund"]
    assert (run["unexplained"], run["differences_total"]) == (0, 0)
    assert run["matched"] == run["stripe_transactions"] == len(lines)  # every balance transaction
    assert run["ledger_entries"] == 4  # charge, refund, funds withdrawn, dispute lost
    assert set(run["differences_by_class"].values()) == {0}
    assert (run["id"], run["attempt"], run["currencies"]) == (
        f"rec_{today()['from']}_{today()['to']}",
        1,
        ["usd"],
    )
    assert differences(run["id"]) == []
    announced = [e["detail"] for e in bus.drain() if e["detail-type"] == "ReconciliationCompleted"]
    assert [(e["event_id"], e["customer_id"], e["data"]["unexplained"]) for e in announced] == [
        (f"{run['id']}:v1", None, 0)
    ]
    assert emitted_metrics()["ReconciliationUnexplainedDifferences"] == 0


# --------------------------------------------------------------------------- what the emulator injects


def test_a_charge_made_at_stripe_directly_is_unknown_at_stripe(
    stripe_chain, dispatcher, today, emitted_metrics
):
    pay()
    intent = stripe_chain.direct_charge(5_000, "usd", {"by": "dashboard"})
    settle(stripe_chain, dispatcher)
    charge = charge_of_intent(stripe_chain, intent["id"])

    run = completed(today())

    assert (run["unexplained"], run["matched"], run["stripe_transactions"]) == (1, 1, 2)
    (found,) = differences(run["id"])
    assert found["class"] == "unknown_at_stripe"
    assert not found["explained"]
    assert found["stripe"] == {
        "object_id": charge["id"],
        "object_type": "charge",
        "balance_transaction_ids": [charge["balance_transaction"]],
        "amount": 5_000,
        "fee": 175,
        "net": 4_825,
    }
    assert found["ledger"] == {"entry_ids": [], "amount": 0, "fee": 0, "net": 0}
    assert found["payment_id"] is None
    assert emitted_metrics()["ReconciliationUnexplainedDifferences"] == 1


def charge_of_intent(emulator: Any, intent_id: str) -> dict[str, Any]:
    (charge,) = [c for c in emulator.charges() if c["payment_intent"] == intent_id]
    return dict(charge)


def test_a_fee_stripe_changed_silently_is_a_fee_mismatch(stripe_chain, dispatcher, today, aws):
    paid = pay()
    settle(stripe_chain, dispatcher)
    charge = charge_of(stripe_chain, paid["id"])
    stripe_chain.change_fee(charge["balance_transaction"], 500)  # we booked 320

    run = completed(today())

    (found,) = differences(run["id"])
    assert (found["class"], found["payment_id"], found["currency"]) == ("fee_mismatch", paid["id"], "usd")
    assert found["stripe"] == {
        "object_id": charge["id"],
        "object_type": "charge",
        "balance_transaction_ids": [charge["balance_transaction"]],
        "amount": 10_000,
        "fee": 500,
        "net": 9_500,
    }
    assert found["ledger"] == {
        "entry_ids": entry_ids(aws, paid["id"]),
        "amount": 10_000,
        "fee": 320,
        "net": 9_680,
    }
    assert found["ledger"]["entry_ids"]  # the charge's entry


def test_a_refund_whose_webhooks_never_arrived_is_missing_in_ledger(stripe_chain, dispatcher, today):
    paid = pay()
    settle(stripe_chain, dispatcher)
    made = stripe_chain.dashboard_refund(
        intent_of(paid["id"], stripe_chain)["id"], 700, suppress_webhooks=True
    )
    settle(stripe_chain, dispatcher)

    run = completed(today())

    (found,) = differences(run["id"])
    assert found["class"] == "missing_in_ledger"
    # The dashboard's refund carries no metadata: its PaymentIntent names our payment.
    assert found["payment_id"] == paid["id"]
    assert found["stripe"] == {
        "object_id": made["id"],
        "object_type": "refund",
        "balance_transaction_ids": [made["balance_transaction"]],
        "amount": -700,
        "fee": 0,
        "net": -700,
    }
    assert found["ledger"]["entry_ids"] == []
    assert run["matched"] == 1  # the charge


def test_an_entry_stripe_has_no_transaction_for_is_missing_at_stripe(stripe_chain, dispatcher, today):
    paid = pay()
    settle(stripe_chain, dispatcher)
    ghost = ghost_refund(paid)
    dispatcher.drain()

    run = completed(today())

    (found,) = differences(run["id"])
    assert found["class"] == "missing_at_stripe"
    assert (found["payment_id"], found["refund_id"]) == (paid["id"], None)
    assert found["stripe"] == {
        "object_id": "re_nowhere",
        "object_type": None,
        "balance_transaction_ids": [],
        "amount": 0,
        "fee": 0,
        "net": 0,
    }
    assert found["ledger"] == {"entry_ids": [ghost], "amount": -500, "fee": 0, "net": -500}


def ghost_refund(paid: dict[str, Any]) -> str:
    """A RefundIssued for a refund Stripe never made, booked by the accounting subscriber."""
    detail = bus_sample("RefundIssued")["detail"]
    detail.update(event_id=f"{paid['id']}:v77", version=77, payment_id=paid["id"], order_id=paid["order_id"])
    detail["data"]["refund"].update(amount=500, currency="usd", stripe_refund_id="re_nowhere")
    put("payments", "RefundIssued", detail)
    return str(detail["event_id"])


def test_a_currency_we_never_booked_is_compared(stripe_chain, dispatcher, today, monkeypatch):
    monkeypatch.setenv("RECONCILIATION_CURRENCIES", "usd")
    pay()
    pay(currency="gbp", amount=2_000)  # booked in gbp: read because Stripe's transactions name it
    intent = stripe_chain.direct_charge(3_000, "eur")
    settle(stripe_chain, dispatcher)

    run = completed(today())

    assert run["currencies"] == ["eur", "gbp", "usd"]
    assert (run["matched"], run["unexplained"]) == (2, 1)
    (found,) = differences(run["id"])
    assert (found["class"], found["currency"]) == ("unknown_at_stripe", "eur")
    assert found["stripe"]["object_id"] == charge_of_intent(stripe_chain, intent["id"])["id"]


# --------------------------------------------------------------------------- idempotent, resumable


def test_a_second_run_replaces_the_first_with_no_duplicate_items(stripe_chain, dispatcher, today, aws):
    paid = pay()
    stripe_chain.direct_charge(5_000)
    settle(stripe_chain, dispatcher)
    ghost = ghost_refund(paid)
    dispatcher.drain()

    first = completed(today())
    again = completed(today())

    assert again["id"] == first["id"]
    assert again["attempt"] == 2
    strip = ("attempt", "started_at", "finished_at")
    assert {k: v for k, v in again.items() if k not in strip} == {
        k: v for k, v in first.items() if k not in strip
    }
    assert sorted(d["class"] for d in differences(again["id"])) == ["missing_at_stripe", "unknown_at_stripe"]
    assert sorted(i["sk"]["S"] for i in stored(aws)) == ["DIFF#00000", "DIFF#00001", "SUMMARY"]

    # The ghost entry goes away: the next run keeps one difference, and no item of the earlier ones.
    ledger = aws["dynamodb"].scan(TableName="ledger")["Items"]
    (item,) = [i for i in ledger if i["entry_id"]["S"] == ghost]
    aws["dynamodb"].delete_item(TableName="ledger", Key={"pk": item["pk"], "sk": item["sk"]})
    third = completed(today())

    assert (third["attempt"], third["differences_total"]) == (3, 1)
    assert [d["class"] for d in differences(third["id"])] == ["unknown_at_stripe"]
    assert sorted(i["sk"]["S"] for i in stored(aws)) == ["DIFF#00000", "SUMMARY"]


def test_stripe_failing_mid_run_fails_the_run_and_the_retry_completes(
    stripe_chain, dispatcher, today, aws, monkeypatch, bus
):
    pay()
    pay()
    settle(stripe_chain, dispatcher)
    monkeypatch.setattr(balance, "PAGE_SIZE", 1)  # one page per balance transaction
    # The first page is held; meanwhile the next request is set to fail: the run fails on its second page.
    stripe_chain.inject_fault("GET", "/v1/balance_transactions", "hold")
    key = str(uuid.uuid4())
    answers: list[Any] = []
    running = threading.Thread(target=lambda: answers.append(start(today(), idempotency_key=key)))
    running.start()
    assert stripe_chain.wait_for_held()
    stripe_chain.inject_fault("GET", "/v1/balance_transactions", "api_error")
    stripe_chain.release_held()
    running.join(timeout=30)

    (failed,) = answers
    assert failed.status == 502, failed.body
    assert (failed.body["code"], failed.body["run_status"]) == ("payment_provider_error", "failed")
    run_id = failed.body["run_id"]
    assert failed.body["run"]["status"] == "failed"
    summary = admin("GET", f"/reconciliation/runs/{run_id}").body
    assert (summary["status"], summary["failure"]["code"]) == ("failed", "payment_provider_error")
    assert (summary["differences"], summary["matched"]) == ([], 0)
    assert admin("GET", f"/reconciliation/runs/{run_id}/differences").status == 409
    assert [i["sk"]["S"] for i in stored(aws)] == ["SUMMARY"]
    assert "ReconciliationCompleted" not in [e["detail-type"] for e in bus.drain()]

    retried = start(today(), idempotency_key=key)  # the 5xx was not kept: the same request runs again

    assert retried.status == 201, retried.body
    assert retried.header("Idempotent-Replayed") is None
    assert (retried.body["status"], retried.body["attempt"], retried.body["unexplained"]) == (
        "completed",
        2,
        0,
    )
    assert retried.body["matched"] == 2
    assert retried.body["failure"] is None


# --------------------------------------------------------------------------- refused requests


def day(offset: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param(lambda: {"from": day(0), "to": day(1)}, "to", id="future"),
        pytest.param(lambda: {"from": day(-40), "to": day(-5)}, "to", id="too-long"),
        pytest.param(lambda: {"from": day(-1), "to": day(-2)}, "to", id="to-before-from"),
        pytest.param(lambda: {"from": "2026-02-30", "to": "2026-03-01"}, "from", id="no-such-day"),
        pytest.param(lambda: {"from": day(-1), "to": day(-1), "payout_id": "po_1"}, "body", id="both-forms"),
        pytest.param(lambda: {}, "body", id="neither-form"),
        pytest.param(lambda: {"from": day(-1)}, "body", id="half-a-period"),
        pytest.param(lambda: {"payout_id": "pay_1"}, "payout_id", id="not-a-payout-id"),
        pytest.param(lambda: {"from": day(-1), "to": day(-1), "extra": 1}, "extra", id="unknown-field"),
    ],
)
def test_a_bad_request_is_a_400_problem_and_stores_nothing(aws, emulator, body, field):
    refused = start(body())

    assert (refused.status, refused.body["code"]) == (400, "validation_error")
    assert field in [e["field"] for e in refused.body["errors"]]
    assert refused.header("Content-Type") == "application/problem+json"
    assert stored(aws) == []


def test_an_unknown_payout_is_a_404_problem_and_stores_nothing(aws, emulator):
    refused = start({"payout_id": "po_doesnotexist"})

    assert (refused.status, refused.body["code"], refused.body["param"]) == (404, "not_found", "payout_id")
    assert stored(aws) == []


def test_an_unknown_run_is_a_404(aws, emulator):
    assert admin("GET", "/reconciliation/runs/rec_2020-01-01_2020-01-01").status == 404
    assert admin("GET", "/reconciliation/runs/rec_2020-01-01_2020-01-01/differences").status == 404
    assert admin("GET", "/reconciliation/runs/not-a-run").status == 400


ROUTES = [
    ("POST", "/reconciliation/runs"),
    ("GET", "/reconciliation/runs"),
    ("GET", "/reconciliation/runs/rec_2020-01-01_2020-01-01"),
    ("GET", "/reconciliation/runs/rec_2020-01-01_2020-01-01/differences"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_customer_is_refused_on_every_route(aws, emulator, method, path):
    body = {"from": day(0), "to": day(0)} if method == "POST" else None
    refused = call(method, path, sub="cus_alice", body=body)

    assert (refused.status, refused.body["code"]) == (403, "forbidden")
    assert stored(aws) == []
    assert aws["dynamodb"].scan(TableName="idempotency")["Count"] == 0  # refused before the handler


# --------------------------------------------------------------------------- reads


def test_runs_are_listed_newest_first_and_differences_export_as_csv(stripe_chain, dispatcher, today):
    paid = pay()
    intent = stripe_chain.direct_charge(5_000)
    settle(stripe_chain, dispatcher)
    charge = charge_of_intent(stripe_chain, intent["id"])
    older = completed({"from": day(-3), "to": day(-2)})
    newer = completed(today())

    page = admin("GET", "/reconciliation/runs", query="limit=1")
    assert [r["id"] for r in page.body["data"]] == [newer["id"]]
    rest = admin("GET", "/reconciliation/runs", query=f"limit=1&cursor={page.body['next_cursor']}")
    assert [r["id"] for r in rest.body["data"]] == [older["id"]]
    assert older["stripe_transactions"] == 0

    exported = admin("GET", f"/reconciliation/runs/{newer['id']}/differences")

    assert exported.status == 200
    assert exported.header("Content-Type") == "text/csv; charset=utf-8"
    assert exported.header("Content-Disposition") == f'attachment; filename="{newer["id"]}.csv"'
    header, row, end = exported.raw_body.split("\r\n")
    columns = header.split(",")
    values = dict(zip(columns, row.split(","), strict=True))
    assert end == ""
    assert values["class"] == "unknown_at_stripe"
    assert (values["stripe_object_id"], values["stripe_balance_transaction_ids"]) == (
        charge["id"],
        charge["balance_transaction"],
    )
    assert (values["stripe_amount"], values["stripe_fee"], values["ledger_amount"]) == ("5000", "175", "0")
    assert values["run_id"] == newer["id"]
    assert paid["id"] not in exported.raw_body


def test_a_cursor_is_bound_to_its_run(stripe_chain, dispatcher, today):
    stripe_chain.direct_charge(5_000)
    stripe_chain.direct_charge(6_000)
    stripe_chain.direct_charge(7_000)
    settle(stripe_chain, dispatcher)
    run = completed(today())
    page = admin("GET", f"/reconciliation/runs/{run['id']}", query="limit=1")
    assert len(page.body["differences"]) == 1

    other = admin(
        "GET",
        "/reconciliation/runs/rec_2020-01-01_2020-01-01",
        query=f"cursor={page.body['next_cursor']}&limit=1",
    )

    assert (other.status, other.body["code"]) == (400, "invalid_cursor")
    assert len(differences(run["id"])) == 3


# --------------------------------------------------------------------------- the scheduled function


def test_the_schedule_reconciles_yesterday_and_a_direct_invocation_its_period(aws, emulator):
    from functions.reconcile.app import handler
    from tests.support.lambda_context import FakeLambdaContext

    scheduled = handler(
        {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}, FakeLambdaContext()
    )
    direct = handler({"from": day(0), "to": day(0)}, FakeLambdaContext())

    assert (scheduled["id"], scheduled["status"]) == (f"rec_{day(-1)}_{day(-1)}", "completed")
    assert (direct["id"], direct["status"]) == (f"rec_{day(0)}_{day(0)}", "completed")
    assert [r["id"] for r in admin("GET", "/reconciliation/runs").body["data"]] == [
        direct["id"],
        scheduled["id"],
    ]


def test_the_scheduled_function_raises_when_stripe_fails_so_it_is_retried(aws, emulator):
    from functions.reconcile.app import handler
    from payments.domain.errors import ProviderError
    from tests.support.lambda_context import FakeLambdaContext

    emulator.inject_fault("GET", "/v1/balance_transactions", "api_error")
    with pytest.raises(ProviderError):
        handler({"from": day(0), "to": day(0)}, FakeLambdaContext())
    assert admin("GET", f"/reconciliation/runs/rec_{day(0)}_{day(0)}").body["status"] == "failed"

    assert handler({"from": day(0), "to": day(0)}, FakeLambdaContext())["status"] == "completed"


# --------------------------------------------------------------------------- payouts


def test_a_payout_is_reconciled_when_stripe_says_it_was_paid(stripe_chain, dispatcher, today, aws):
    paid = pay()
    refund(paid["id"], 1_000)
    settle(stripe_chain, dispatcher)
    (payout,) = stripe_chain.run_payouts()
    settle(stripe_chain, dispatcher)  # payout.paid reached the reconcile function too
    assert payout["amount"] == 9_680 - 1_000

    stored_run = admin("GET", f"/reconciliation/runs/rec_{payout['id']}").body
    assert (stored_run["kind"], stored_run["payout_id"]) == ("payout", payout["id"])
    run = completed({"payout_id": payout["id"]})  # again, now that every subscriber has run

    assert run["payout_check"] == {
        "status": "balanced",
        "payout_amount": 8_680,
        "transactions_net": 8_680,
        "difference": 0,
        "transactions": 2,
        "pending": [],
        "reason": "",
    }
    assert (run["unexplained"], run["matched"], run["stripe_transactions"]) == (0, 3, 3)
    # The payout's own transaction matches our PayoutCreated entry in the day's run too.
    assert completed(today())["unexplained"] == 0


def test_a_payout_stripe_has_not_reconciled_yet_says_so(stripe_chain, dispatcher):
    pay()
    settle(stripe_chain, dispatcher)
    stripe_chain.update_settings(hold_payouts=True)
    (payout,) = stripe_chain.run_payouts()
    settle(stripe_chain, dispatcher)

    run = completed({"payout_id": payout["id"]})

    check = run["payout_check"]
    assert (check["status"], check["transactions"]) == ("unavailable", 0)
    assert "in_progress" in check["reason"]


# --------------------------------------------------------------------------- one attempt at a time


def test_a_run_already_running_is_a_409_the_caller_may_retry(stripe_chain, dispatcher, today, aws):
    pay()
    settle(stripe_chain, dispatcher)
    stripe_chain.inject_fault("GET", "/v1/balance_transactions", "hold")
    answers: list[Any] = []
    first = threading.Thread(target=lambda: answers.append(start(today())))
    first.start()
    assert stripe_chain.wait_for_held()

    key = str(uuid.uuid4())
    busy = start(today(), idempotency_key=key)
    stripe_chain.release_held()
    first.join(timeout=30)

    assert (busy.status, busy.body["code"]) == (409, "concurrent_update")
    (done,) = answers
    assert (done.status, done.body["attempt"]) == (201, 1)
    again = start(today(), idempotency_key=key)  # the 409 was not kept: the same request runs now
    assert (again.status, again.body["attempt"]) == (201, 2)


def test_a_run_left_running_by_a_crash_is_taken_over_after_a_while(aws, emulator, today):
    done = completed(today())
    key = {"pk": {"S": f"RUN#{done['id']}"}, "sk": {"S": "SUMMARY"}}
    aws["dynamodb"].update_item(
        TableName=TABLE,
        Key=key,
        UpdateExpression="SET #s = :running, started_at = :at",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":running": {"S": "running"}, ":at": {"S": "2000-01-01T00:00:00.000Z"}},
    )

    taken = completed(today())

    assert taken["attempt"] == 2
