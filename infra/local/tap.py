"""A copy of everything published on the payments bus: a catch-all rule into an SQS queue of its own.

`make dev` prints each event from it; `make invoke` uses a temporary one to show what a function emitted.
"""

from __future__ import annotations

import json
from typing import Any

from infra import catalog

SOURCES = [catalog.DOMAIN_EVENT_SOURCE, catalog.STRIPE_EVENT_SOURCE]


class EventTap:
    def __init__(self, events: Any, sqs: Any, name: str = "local-tap") -> None:
        self._events = events
        self._sqs = sqs
        self.name = name
        self.queue_url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(
            Name=name, EventBusName=catalog.EVENT_BUS, EventPattern=json.dumps({"source": SOURCES})
        )
        events.put_targets(Rule=name, EventBusName=catalog.EVENT_BUS, Targets=[{"Id": name, "Arn": arn}])

    def poll(self, wait_seconds: int = 0) -> list[dict[str, Any]]:
        """The events waiting in the tap, oldest first as far as SQS tells; each is removed once read."""
        received: list[dict[str, Any]] = []
        while True:
            messages = self._sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds
            ).get("Messages", [])
            if not messages:
                return received
            received.extend(json.loads(message["Body"]) for message in messages)
            self._sqs.delete_message_batch(  # one request for the batch: it runs under every payment
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )
            wait_seconds = 0

    def remove(self) -> None:
        self._events.remove_targets(Rule=self.name, EventBusName=catalog.EVENT_BUS, Ids=[self.name])
        self._events.delete_rule(Name=self.name, EventBusName=catalog.EVENT_BUS)
        self._sqs.delete_queue(QueueUrl=self.queue_url)


def describe(event: dict[str, Any]) -> str:
    """One readable line: `PaymentProcessed pay_123 order=o-1 (payments)`."""
    detail = event.get("detail") or {}
    source = event.get("source", "?")
    if source == catalog.DOMAIN_EVENT_SOURCE:
        parts = [
            str(detail.get("payment_id") or ""),
            f"order={detail['order_id']}" if detail.get("order_id") else "",
        ]
    else:
        obj = (detail.get("data") or {}).get("object") or {}
        parts = [str(detail.get("id") or ""), str(obj.get("id") or "")]
    summary = " ".join(p for p in parts if p)
    return f"{event.get('detail-type', '?')} {summary} ({source})".replace("  ", " ")
