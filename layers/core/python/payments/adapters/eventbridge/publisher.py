"""Publish domain events to the payments bus: source "payments", detail-type = event type."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from payments.adapters.aws import client
from payments.domain.events import DomainEvent

SOURCE = "payments"
BATCH = 10  # PutEvents takes at most 10 entries


class PublishFailed(Exception):
    def __init__(self, failed: list[dict[str, Any]]) -> None:
        codes = sorted({str(entry.get("ErrorCode")) for entry in failed})
        super().__init__(f"{len(failed)} event(s) were not accepted by EventBridge: {', '.join(codes)}")
        self.failed = failed


class EventBridgePublisher:
    def __init__(self, bus_name: str) -> None:
        self.bus_name = bus_name

    def publish(self, events: Sequence[DomainEvent]) -> None:
        entries = [self.entry(event) for event in events]
        put_entries(entries)

    def entry(self, event: DomainEvent) -> dict[str, Any]:
        return {
            "EventBusName": self.bus_name,
            "Source": SOURCE,
            "DetailType": event.event_type,
            "Detail": json.dumps(event.model_dump(mode="json"), separators=(",", ":")),
            "Resources": [f"payment:{event.payment_id}"] if event.payment_id else [],
        }


def put_entries(entries: Sequence[dict[str, Any]]) -> None:
    """PutEvents in batches; raise if any entry failed (PutEvents reports failures per entry)."""
    events: Any = client("events")
    failed: list[dict[str, Any]] = []
    for start in range(0, len(entries), BATCH):
        batch = list(entries[start : start + BATCH])
        response = events.put_events(Entries=batch)
        if response.get("FailedEntryCount"):
            failed.extend(result for result in response["Entries"] if result.get("ErrorCode"))
    if failed:
        raise PublishFailed(failed)


# --------------------------------------------------------------------------- Stripe events

STRIPE_SOURCE = "stripe"
MAX_ENTRY_BYTES = 256 * 1024  # EventBridge's limit on one PutEvents entry


class StripeEventForwarder:
    """Verified Stripe events onto the bus as they are: source "stripe", detail-type = Stripe's type."""

    def __init__(self, bus_name: str) -> None:
        self.bus_name = bus_name

    def entry(self, event: dict[str, Any]) -> dict[str, Any]:
        return {
            "EventBusName": self.bus_name,
            "Source": STRIPE_SOURCE,
            "DetailType": str(event["type"]),
            "Detail": json.dumps(event, separators=(",", ":")),
        }

    def fits(self, event: dict[str, Any]) -> bool:
        return entry_size(self.entry(event)) <= MAX_ENTRY_BYTES

    def forward(self, event: dict[str, Any]) -> None:
        put_entries([self.entry(event)])


def entry_size(entry: dict[str, Any]) -> int:
    """An entry's size as EventBridge counts it against its limit: Time, Source, DetailType, Detail
    and Resources, in UTF-8 bytes."""
    size = 14 if entry.get("Time") else 0
    for name in ("Source", "DetailType", "Detail"):
        size += len(str(entry.get(name, "")).encode())
    return size + sum(len(resource.encode()) for resource in entry.get("Resources", []))
