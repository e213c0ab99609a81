"""`dlq list` and `dlq redrive` on what the dispatcher parks: a poison event is listed with its error,
redriven after the fix and booked exactly once; a second redrive finds nothing to do."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from infra import catalog
from tests.support.bus import put
from tests.support.dynamodb_faults import refuse
from tests.support.stripe_webhooks import bus_sample, journal
from tools.operations import dead_letters
from tools.operations.deployment import BadInput, Deployment


def put_domain_event(detail: dict[str, Any]) -> None:
    put(catalog.DOMAIN_EVENT_SOURCE, detail["event_type"], detail)


def parked(function: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=f"{function}-dlq")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"  # nothing left hidden
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def test_a_poison_event_is_listed_redriven_after_the_fix_and_booked_once(
    aws, emulator, dispatcher, deployment: Deployment, invoked, capsys
):
    detail = bus_sample("PaymentProcessed")["detail"]
    fix = refuse("PutItem", "ledger")  # the accounting function may not write the ledger
    put_domain_event(detail)
    assert [d.outcome for d in dispatcher.drain()] == ["retry", "retry", "dlq"]
    assert journal() == []

    assert dead_letters.list_dead_letters(deployment, "accounting") == 0
    listed = capsys.readouterr().out
    assert "accounting-dlq: 1 message" in listed
    assert f"{detail['event_id']}  PaymentProcessed  {detail['payment_id']}  attempts 3" in listed
    assert "error: ClientError: An error occurred (AccessDeniedException)" in listed
    assert len(parked("accounting")) == 1  # listing consumed nothing

    assert dead_letters.redrive_dead_letters(deployment, "accounting", None) == 1  # not fixed yet
    assert "redriven 0, failed again 1 (left in the queue)" in capsys.readouterr().out
    assert len(parked("accounting")) == 1
    assert journal() == []

    fix()
    assert dead_letters.redrive_dead_letters(deployment, "accounting", None) == 0
    redriven = capsys.readouterr().out
    assert f"redriven  {detail['event_id']}  PaymentProcessed  -> accounting" in redriven
    assert "redriven 1, failed again 0" in redriven
    assert [name for name, _ in invoked] == ["accounting", "accounting"]
    (entry,) = journal()
    assert entry.entry_id == detail["event_id"]
    assert parked("accounting") == []

    assert dead_letters.redrive_dead_letters(deployment, "accounting", None) == 0
    assert "nothing to redrive: the dead-letter queue is empty" in capsys.readouterr().out
    # The same event delivered again (a redrive that ran twice, a replay) books nothing more.
    assert dead_letters.deliver(deployment.client("lambda"), "accounting", invoked[-1][1]) is None
    assert [e.entry_id for e in journal()] == [detail["event_id"]]


def test_a_redrive_of_every_queue_names_each_and_says_when_all_are_empty(
    aws, emulator, dispatcher, deployment: Deployment, invoked, capsys
):
    assert dead_letters.redrive_dead_letters(deployment, None, None) == 0

    out = capsys.readouterr().out
    for fn in catalog.subscribers():
        assert f"{fn.name}-dlq:\n  empty: nothing to redrive" in out
    assert out.rstrip().endswith("nothing to redrive: every dead-letter queue is empty")
    assert invoked == []


def test_a_redrive_stops_at_max_and_leaves_the_rest_visible(
    aws, emulator, dispatcher, deployment: Deployment, invoked, capsys
):
    fix = refuse("PutItem", "ledger")
    details = [bus_sample("PaymentProcessed")["detail"] for _ in range(3)]
    for number, detail in enumerate(details):
        detail["event_id"] = f"{detail['payment_id']}:v{number + 10}"
        put_domain_event(detail)
    dispatcher.drain()
    fix()

    assert dead_letters.redrive_dead_letters(deployment, "accounting", 2) == 0
    assert "redriven 2, failed again 0" in capsys.readouterr().out
    assert len(parked("accounting")) == 1
    assert len(journal()) == 2


@pytest.mark.parametrize("name", ["nope", "get_payment", "payments-dev-accounting-dlq"])
def test_an_unknown_queue_is_bad_input(aws, dispatcher, deployment: Deployment, name: str):
    with pytest.raises(BadInput, match=f"no dead-letter queue '{name}'"):
        dead_letters.list_dead_letters(deployment, name)


def test_a_message_in_neither_shape_is_listed_and_never_deleted(
    aws, dispatcher, deployment: Deployment, invoked, capsys
):
    sqs = boto3.client("sqs")
    url = dispatcher.routes["refunds"][1]
    sqs.send_message(QueueUrl=url, MessageBody="not an event")

    assert dead_letters.list_dead_letters(deployment, "refunds") == 0
    assert "error: unreadable" in capsys.readouterr().out
    assert dead_letters.redrive_dead_letters(deployment, "refunds", None) == 1
    assert "FAILED    -  -  -> refunds: unreadable" in capsys.readouterr().out
    assert invoked == []
    assert len(sqs.receive_message(QueueUrl=url, VisibilityTimeout=0).get("Messages", [])) == 1
