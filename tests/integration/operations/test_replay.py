"""`archive replay` on moto's archive, as the local stack runs it: only the range asked for, only to the
rule named (moto alone would replay everything to every rule: infra/local/moto_patches.py), once per
range and rule."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from infra import catalog
from infra.local import resources
from tools.operations import replay
from tools.operations.deployment import BadInput, Deployment, OperationError


@pytest.fixture
def replays() -> Iterator[None]:
    from infra.local.moto_patches import replays_like_eventbridge

    undo = replays_like_eventbridge()
    yield
    undo()


@pytest.fixture
def archived(aws: dict[str, Any], dispatcher: Any) -> dict[str, tuple[str, str]]:
    bus = aws["events"].describe_event_bus(Name=resources.LOCAL_BUS)["Arn"]
    resources.create_archive(aws["events"], bus)
    return dict(dispatcher.routes)


def put_at(when: datetime, source: str, detail_type: str, detail: dict[str, Any]) -> None:
    entry = {"EventBusName": catalog.EVENT_BUS, "Source": source, "DetailType": detail_type}
    entry.update(Detail=json.dumps(detail), Time=when)
    assert boto3.client("events").put_events(Entries=[entry])["FailedEntryCount"] == 0


def drained(queue_url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    found = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return found


def test_a_replay_sends_the_ranges_events_to_the_one_rule_once(
    archived, replays, deployment: Deployment, capsys
):
    now = datetime.now(UTC)
    today, two_days_ago = now - timedelta(minutes=5), now - timedelta(days=2)
    for when, label in ((two_days_ago, "old"), (today, "new")):
        put_at(when, "stripe", "refund.created", {"id": f"evt_{label}", "type": "refund.created"})
        put_at(when, "payments", "PaymentProcessed", {"event_id": f"pay_{label}:v2"})
    for queue_url, _ in archived.values():
        drained(queue_url)  # delivered once already; only what the replay sends is left to see
    span = replay.time_range(today.date().isoformat(), now.date().isoformat(), now)

    assert replay.replay_archive(deployment, span, "refunds", now=now) == 0

    out = capsys.readouterr().out
    name = replay.replay_name(resources.LOCAL_BUS, "refunds", span)
    assert f"replay {name} started" in out
    assert "state COMPLETED" in out
    replayed = drained(archived["refunds"][0])
    assert [(e["detail"]["id"], e["replay-name"]) for e in replayed] == [("evt_new", name)]
    assert drained(archived["accounting"][0]) == []  # another rule: nothing

    assert replay.replay_archive(deployment, span, "refunds", now=now) == 0
    assert f"replay {name} already exists (this range and rule): not started again" in capsys.readouterr().out
    assert drained(archived["refunds"][0]) == []


def test_an_unknown_rule_is_bad_input(archived, replays, deployment: Deployment):
    span = replay.time_range("2026-11-25", None, datetime(2026, 11, 27, tzinfo=UTC))
    for rule in ("nope", "janitor"):  # janitor runs on a schedule, not from the bus
        with pytest.raises(BadInput, match=f"no rule '{rule}' on the bus payments; name a subscriber"):
            replay.replay_archive(deployment, span, rule)


def test_a_bus_without_an_archive_cannot_replay(aws, dispatcher, deployment: Deployment):
    span = replay.time_range("2026-11-25", None, datetime(2026, 11, 27, tzinfo=UTC))
    with pytest.raises(OperationError, match="has no enabled archive"):
        replay.replay_archive(deployment, span, "accounting")
