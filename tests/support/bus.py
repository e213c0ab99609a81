"""Put events on the payments bus as their producers would (the real rules then route them)."""

from __future__ import annotations

import json
from typing import Any

import boto3

from infra import catalog


def put_stripe_event(stripe_event: dict[str, Any]) -> None:
    """What the webhook forwards: source "stripe", detail-type = Stripe's type, detail = the event."""
    put(catalog.STRIPE_EVENT_SOURCE, stripe_event["type"], stripe_event)


def put(source: str, detail_type: str, detail: dict[str, Any]) -> None:
    response = boto3.client("events").put_events(
        Entries=[
            {
                "EventBusName": catalog.EVENT_BUS,
                "Source": source,
                "DetailType": detail_type,
                "Detail": json.dumps(detail),
            }
        ]
    )
    assert response["FailedEntryCount"] == 0, response
