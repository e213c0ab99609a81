"""The operator tools against a local stack started as `make dev` starts it, run as the Makefile runs
them (`python -m tools.operations --local ...`): a poison event parked, listed, redriven after the fix
and applied once; a replay of the day that changes nothing; a Stripe event whose webhook never came,
redelivered twice and applied once; clear errors for bad input.

The stack is this module's own: the DLQs must start empty and the tables hold only what these tests do.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from infra import catalog
from infra.local import resources
from infra.local.environment import aws_client, base_environment
from infra.local.settings import EMULATOR_API_KEY, ROOT
from tests.e2e.frontend import Frontend, start_stack

pytestmark = pytest.mark.e2e


@dataclass
class Operator:
    frontend: Frontend

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**base_environment(), "LOCAL_STATE_DIR": str(Path(self.frontend.state.log_dir).parent)}
        return subprocess.run(
            [sys.executable, "-m", "tools.operations", "--local", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    def client(self, service: str) -> Any:
        return aws_client(service, self.frontend.state.aws_url(service))

    def stripe(self) -> Any:
        import stripe

        assert self.frontend.state.stripe_url
        return stripe.StripeClient(EMULATOR_API_KEY, base_addresses={"api": self.frontend.state.stripe_url})

    def pay(self, amount: int) -> dict[str, Any]:
        body = {
            "order_id": f"ops-{uuid.uuid4().hex[:10]}",
            "amount": amount,
            "currency": "usd",
            "payment_method_id": "pm_card_visa",
            "customer_id": "alice",
        }
        key = str(uuid.uuid4())
        answer = self.frontend.admin.post("/payments", body, idempotency_key=key)
        for _ in range(3):  # a 5xx is not stored: the same key resumes it, as a client retries
            if answer.status < 500:
                break
            answer = self.frontend.admin.post("/payments", body, idempotency_key=key)
        assert answer.status == 201, answer.body
        assert answer.json["status"] == "succeeded"
        self.settle()
        return dict(answer.json)

    def payment(self, payment_id: str) -> dict[str, Any]:
        return dict(self.frontend.admin.get(f"/payments/{payment_id}").json)

    def history(self, payment_id: str) -> list[str]:
        return [
            e["event_type"] for e in self.frontend.admin.get(f"/payments/{payment_id}/events").json["data"]
        ]

    def state_key(self, payment_id: str) -> dict[str, Any]:
        return {"pk": {"S": f"PAYMENT#{payment_id}"}, "sk": {"S": "STATE"}}

    def intent_of(self, payment_id: str) -> str:
        item = self.client("dynamodb").get_item(TableName="payments", Key=self.state_key(payment_id))["Item"]
        return str(item["stripe_payment_intent_id"]["S"])

    def table(self, name: str) -> list[dict[str, Any]]:
        db, items, start = self.client("dynamodb"), [], None
        while True:
            page = db.scan(TableName=name, **({"ExclusiveStartKey": start} if start else {}))
            items += page["Items"]
            start = page.get("LastEvaluatedKey")
            if not start:
                return sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"]))

    def settle(self, timeout_s: float = 180.0) -> None:
        """Until Stripe has delivered its recent webhooks (those it has not given up on: the emulator
        retries for seconds, not days) and every subscriber's queue is empty, twice in a row."""
        sqs, stripe = self.client("sqs"), self.stripe()
        queues = [
            sqs.get_queue_url(QueueName=resources.subscriber_queue_names(fn)[0])["QueueUrl"]
            for fn in catalog.subscribers()
        ]
        quiet, deadline = 0, time.monotonic() + timeout_s
        while quiet < 2:
            assert time.monotonic() < deadline, "the stack did not settle"
            since = time.time() - 90
            latest = stripe.v1.events.list(params={"limit": 100}).data
            pending = any(e.pending_webhooks for e in latest if e.created >= since)
            waiting = any(
                int(value)
                for url in queues
                for value in sqs.get_queue_attributes(
                    QueueUrl=url,
                    AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
                )["Attributes"].values()
            )
            quiet = 0 if pending or waiting else quiet + 1
            time.sleep(0.5)


@pytest.fixture(scope="module")
def operator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Operator]:
    # The schedules (relay, janitor) every minute, not every 2 s: they play no part here.
    launched = start_stack(tmp_path_factory.mktemp("operations-stack"), LOCAL_SCHEDULE_SECONDS="60")
    yield Operator(Frontend(launched))
    assert launched.stop() == [], "make dev left processes running"


def test_a_redrive_of_an_empty_dlq_says_so(operator: Operator) -> None:
    result = operator.run("dlq", "redrive", "--queue", "payouts")

    assert result.returncode == 0, result.stderr
    assert "payouts-dlq:\n  empty: nothing to redrive" in result.stdout
    assert "nothing to redrive: the dead-letter queue is empty" in result.stdout


def test_a_poison_event_is_listed_redriven_after_the_fix_and_applied_once(operator: Operator) -> None:
    paid = operator.pay(5_000)
    db, key = operator.client("dynamodb"), operator.state_key(paid["id"])
    state = db.get_item(TableName="payments", Key=key)["Item"]
    db.delete_item(TableName="payments", Key=key)  # the fault: Stripe's news outruns our own write
    refund = operator.frontend.emulator(
        "refunds", {"payment_intent": state["stripe_payment_intent_id"]["S"], "amount": 1_500}
    ).json
    operator.frontend.wait_for_output("refund.created", "parked in DLQ refunds-dlq", timeout_s=60)
    operator.settle()

    listed = operator.run("dlq", "list")
    assert listed.returncode == 0, listed.stderr
    assert "refunds-dlq: " in listed.stdout
    assert "refund.created  attempts 3" in listed.stdout
    assert f"error: NotFound: payment {paid['id']}" in listed.stdout
    assert operator.run("dlq", "list").stdout.count("refund.created") == listed.stdout.count("refund.created")

    db.put_item(TableName="payments", Item=state)  # the fix
    redriven = operator.run("dlq", "redrive")
    assert redriven.returncode == 0, redriven.stdout + redriven.stderr
    assert "redriven  evt_" in redriven.stdout
    assert "failed again 0" in redriven.stdout
    operator.settle()

    payment = operator.payment(paid["id"])
    assert payment["amount_refunded"] == 1_500
    assert [(r["stripe_refund_id"], r["amount"]) for r in payment["refunds"]] == [(refund["id"], 1_500)]
    assert operator.history(paid["id"]).count("RefundIssued") == 1
    again = operator.run("dlq", "redrive")
    assert again.returncode == 0, again.stderr
    assert "nothing to redrive: every dead-letter queue is empty" in again.stdout
    assert operator.payment(paid["id"]) == payment


def test_a_replay_of_the_day_changes_nothing_already_applied(operator: Operator) -> None:
    started = datetime.now(UTC).date().isoformat()
    paid = operator.pay(7_000)
    assert operator.frontend.admin.post(f"/payments/{paid['id']}/refunds", {"amount": 2_000}).status == 201
    operator.settle()
    before = {name: operator.table(name) for name in ("payments", "ledger")}
    today = datetime.now(UTC).date().isoformat()  # the day the test started, through today

    for rule in ("payment_status", "refunds", "accounting"):
        replayed = operator.run("archive", "replay", "--from", started, "--to", today, "--rule", rule)
        assert replayed.returncode == 0, replayed.stderr
        assert "started" in replayed.stdout
        assert "state COMPLETED" in replayed.stdout
    operator.settle()

    assert {name: operator.table(name) for name in ("payments", "ledger")} == before
    again = operator.run("archive", "replay", "--from", started, "--to", today, "--rule", "accounting")
    assert again.returncode == 0, again.stderr
    assert "already exists (this range and rule): not started again" in again.stdout


def test_a_stripe_event_whose_webhook_never_came_is_redelivered_and_applied_once(operator: Operator) -> None:
    paid = operator.pay(4_000)
    intent = operator.intent_of(paid["id"])
    refund = operator.frontend.emulator(
        "refunds", {"payment_intent": intent, "amount": 700, "suppress_webhooks": True}
    ).json
    (created,) = [
        e
        for e in operator.stripe().v1.events.list(params={"type": "refund.created", "limit": 100}).data
        if e.data.object["id"] == refund["id"]
    ]
    operator.settle()
    assert operator.payment(paid["id"])["amount_refunded"] == 0  # the webhook never came

    first = operator.run("stripe", "redeliver", "--event", created.id)
    assert first.returncode == 0, first.stderr
    assert f"{created.id} refund.created" in first.stdout
    assert "forwarded to the bus payments" in first.stdout
    operator.settle()
    payment = operator.payment(paid["id"])
    assert payment["amount_refunded"] == 700
    assert [r["stripe_refund_id"] for r in payment["refunds"]] == [refund["id"]]

    second = operator.run("stripe", "redeliver", "--event", created.id)
    assert second.returncode == 0, second.stderr
    assert "already forwarded (by its webhook or an earlier redelivery): nothing sent again" in second.stdout
    operator.settle()
    assert operator.payment(paid["id"]) == payment
    assert operator.history(paid["id"]).count("RefundIssued") == 1


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("dlq", "list", "--queue", "nope"), "no dead-letter queue 'nope' in the local stack"),
        (("dlq", "redrive", "--queue", "nope"), "no dead-letter queue 'nope' in the local stack"),
        (("dlq", "redrive", "--max", "0"), "--max must be at least 1"),
        (
            ("archive", "replay", "--from", "2026-11-25", "--rule", "nope"),
            "no rule 'nope' on the bus payments",
        ),
        (
            ("archive", "replay", "--from", "2026-11-26", "--to", "2026-11-25", "--rule", "refunds"),
            "--from 2026-11-26 must come before --to 2026-11-25",
        ),
        (("archive", "replay", "--from", "soon", "--rule", "refunds"), "give a day (2026-11-25) or an ISO"),
        (("stripe", "redeliver", "--event", "evt_neverexisted"), "Stripe has no event evt_neverexisted"),
        (("stripe", "redeliver", "--event", "pay_123"), "'pay_123' is not a Stripe event id"),
    ],
)
def test_bad_input_is_a_clear_error_with_exit_code_2(
    operator: Operator, args: tuple[str, ...], says: str
) -> None:
    result = operator.run(*args)

    assert result.returncode == 2, result.stdout + result.stderr
    assert says in result.stderr
    assert "Traceback" not in result.stderr
