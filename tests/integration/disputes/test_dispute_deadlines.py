"""The deadline watcher, on the clock moved towards Stripe's deadline: DisputeDeadlineApproaching 72 and 24
hours before, each once however often (or however concurrently) it runs, then the past-due count. It
reads the disputes index only, never a scan."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import time_machine

from infra import catalog
from infra.local.stack import scheduled_event
from payments.adapters.aws import client
from payments.adapters.dynamodb.disputes import DynamoDisputes
from payments.domain.dispute import DisputeRecord
from payments.domain.events import DETAIL_MODELS
from tests.integration.disputes.conftest import evidence, open_dispute
from tests.support.api import handler_for
from tests.support.lambda_context import FakeLambdaContext
from tests.support.stripe_webhooks import history

WATCHER = catalog.function("dispute_deadlines")


def watch() -> dict[str, int]:
    """One run of the watcher: what it announced and how many disputes are past due."""
    report = handler_for(WATCHER.name)(scheduled_event(WATCHER), FakeLambdaContext(WATCHER.name))
    assert report.pop("failed") == []
    return dict(report)


def at_hours_before(due_by: int, hours: float) -> Any:
    return time_machine.travel(datetime.fromtimestamp(due_by, UTC) - timedelta(hours=hours), tick=True)


def notices(bus: Any) -> list[dict[str, Any]]:
    """Every DisputeDeadlineApproaching published so far."""
    found = [e["detail"] for e in bus.drain() if e["detail-type"] == "DisputeDeadlineApproaching"]
    for detail in found:
        DETAIL_MODELS["DisputeDeadlineApproaching"].model_validate(detail)  # as its JSON Schema says
    return found


@pytest.fixture(autouse=True)
def no_scans(aws: Any) -> None:
    def refuse(**_: Any) -> None:
        raise AssertionError("the deadline watcher must not scan the table")

    client("dynamodb").meta.events.register("before-call.dynamodb.Scan", refuse)


def test_72_then_24_hours_before_each_once_then_past_due(aws, emulator, dispatcher, bus, emitted_metrics):
    opened = open_dispute(emulator, dispatcher)
    payment_id, dispute = opened["payment"]["id"], opened["dispute"]
    due_by = dispute["evidence_details"]["due_by"]

    assert watch() == {"announced": 0, "past_due": 0}  # a week to go
    with at_hours_before(due_by, 71):
        assert [watch(), watch()] == [{"announced": 1, "past_due": 0}, {"announced": 0, "past_due": 0}]
    (first,) = notices(bus)
    assert (first["payment_id"], first["event_id"]) == (payment_id, f"{payment_id}:v{first['version']}")
    assert first["data"]["deadline"] == {
        "dispute_id": dispute["id"],
        "status": "needs_response",
        "due_by": datetime.fromtimestamp(due_by, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z"),
        "hours": 72,
    }
    with at_hours_before(due_by, 23):
        assert [watch()["announced"], watch()["announced"]] == [1, 0]
    assert [n["data"]["deadline"]["hours"] for n in notices(bus)] == [72, 24]
    with at_hours_before(due_by, -1):
        assert watch() == {"announced": 0, "past_due": 1}
    assert history(payment_id).count("DisputeDeadlineApproaching") == 2
    metrics = emitted_metrics()
    assert (metrics["DisputeDeadlineNotices"], metrics["DisputesPastDue"]) == (2, 1)


def test_a_dispute_first_seen_within_a_day_gets_the_24_hour_notice_only(aws, emulator, dispatcher, bus):
    due_by = open_dispute(emulator, dispatcher)["dispute"]["evidence_details"]["due_by"]
    with at_hours_before(due_by, 20):
        assert watch()["announced"] == 1
        assert watch()["announced"] == 0
    assert [n["data"]["deadline"]["hours"] for n in notices(bus)] == [24]


def test_overlapping_runs_announce_once(aws, emulator, dispatcher, bus, monkeypatch):
    due_by = open_dispute(emulator, dispatcher)["dispute"]["evidence_details"]["due_by"]
    # Both runs hold the same candidates before either decides: the payment's version decides.
    both_read = threading.Barrier(2, timeout=20)
    found = DynamoDisputes.due_before

    def due_before(self: DynamoDisputes, status: str, before: int) -> list:
        records = found(self, status, before)
        if status == "needs_response":
            both_read.wait()
        return records

    monkeypatch.setattr(DynamoDisputes, "due_before", due_before)
    reports: list[dict[str, int]] = []
    with at_hours_before(due_by, 70):
        runs = [threading.Thread(target=lambda: reports.append(watch())) for _ in range(2)]
        for run in runs:
            run.start()
        for run in runs:
            run.join(timeout=60)
    assert sorted(r["announced"] for r in reports) == [0, 1]
    assert len(notices(bus)) == 1


def test_the_payment_holds_the_mark_when_the_records_copy_is_lost(aws, emulator, dispatcher, bus):
    opened = open_dispute(emulator, dispatcher)
    dispute_id, due_by = opened["dispute"]["id"], opened["dispute"]["evidence_details"]["due_by"]
    with at_hours_before(due_by, 60):
        assert watch()["announced"] == 1
        boto3.client("dynamodb").update_item(
            TableName="payments",
            Key={"pk": {"S": f"DISPUTE#{dispute_id}"}, "sk": {"S": "DISPUTE"}},
            UpdateExpression="REMOVE deadline_notice_hours",
        )
        assert watch()["announced"] == 0
    assert history(opened["payment"]["id"]).count("DisputeDeadlineApproaching") == 1


def test_a_dispute_whose_payment_cannot_be_read_holds_back_no_other(aws, emulator, dispatcher, bus):
    due_by = open_dispute(emulator, dispatcher)["dispute"]["evidence_details"]["due_by"]
    orphan = DisputeRecord(
        id="dp_orphan",
        payment_id="pay_notours00000000000000000",
        status="needs_response",
        reason="fraudulent",
        amount=500,
        currency="usd",
        created_at="2026-01-01T00:00:00.000Z",
        updated_at="2026-01-01T00:00:00.000Z",
        due_by=due_by - 60,
    )
    DynamoDisputes("payments").save(orphan)
    with at_hours_before(due_by, 48), pytest.raises(RuntimeError, match="dp_orphan"):
        handler_for(WATCHER.name)(scheduled_event(WATCHER), FakeLambdaContext(WATCHER.name))
    assert len(notices(bus)) == 1  # the other dispute's notice went out all the same


def test_a_dispute_whose_evidence_is_submitted_is_not_chased(aws, emulator, dispatcher, bus):
    dispute = open_dispute(emulator, dispatcher)["dispute"]
    assert evidence(dispute["id"], {"evidence": {"uncategorized_text": "ok"}, "submit": True}).status == 200
    with at_hours_before(dispute["evidence_details"]["due_by"], 10):
        assert watch() == {"announced": 0, "past_due": 0}
    assert notices(bus) == []
