"""The local stack's copy of the bus (infra/local/tap.py): every event once, in batches, then gone."""

from __future__ import annotations

import json

import boto3

from infra import catalog
from infra.local.tap import EventTap


def test_the_tap_hands_over_each_event_once_and_empties_its_queue(aws):
    sqs = boto3.client("sqs")
    tap = EventTap(aws["events"], sqs)
    entries = [
        {
            "Source": catalog.DOMAIN_EVENT_SOURCE,
            "DetailType": "PaymentProcessed",
            "Detail": json.dumps({"payment_id": f"pay_{n}"}),
            "EventBusName": catalog.EVENT_BUS,
        }
        for n in range(13)  # more than one receive's batch of 10
    ]
    aws["events"].put_events(Entries=entries[:10])
    aws["events"].put_events(Entries=entries[10:])
    events = tap.poll()
    assert sorted(e["detail"]["payment_id"] for e in events) == sorted(f"pay_{n}" for n in range(13))
    assert tap.poll() == []
    left = sqs.get_queue_attributes(QueueUrl=tap.queue_url, AttributeNames=["All"])["Attributes"]
    assert (left["ApproximateNumberOfMessages"], left["ApproximateNumberOfMessagesNotVisible"]) == ("0", "0")
    tap.remove()
