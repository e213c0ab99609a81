"""EventBridge rule -> Lambda, locally: each subscriber's rule delivers to an SQS queue in moto; the
dispatcher receives from it, invokes the subscriber's handler with the EventBridge event, retries a
failure (like the rule's retry policy) and then parks the event in the subscriber's DLQ.

What it parks is what the deployed stack's DLQ receives for a handler that kept failing: EventBridge
invokes Lambda asynchronously, so the queue is the function's on-failure destination and gets Lambda's
invocation record (`failure_record`: the event under `requestPayload`, the error under
`responsePayload`, the attempts under `requestContext`), not the bare event. tools/operations reads it.

Used by the integration tests (drain until quiet) and by `make dev` (a polling loop)."""

from __future__ import annotations

import importlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from infra import catalog
from infra.local.environment import ACCOUNT, REGION

logger = logging.getLogger("dispatcher")
Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class Delivery:
    function: str
    event_id: str
    detail_type: str
    attempt: int
    outcome: str  # "ok", "retry" or "dlq"
    error: str | None = None
    subject: str = ""  # what the event is about: the payment id, or the Stripe event id


def _subject(event: dict[str, Any]) -> str:
    detail = event.get("detail") or {}
    return str(detail.get("payment_id") or detail.get("id") or "") if isinstance(detail, dict) else ""


@dataclass
class EventDispatcher:
    sqs: Any
    routes: dict[str, tuple[str, str]]  # function -> (queue url, dlq url)
    max_attempts: int = 3
    account: str = ACCOUNT
    context_factory: Callable[[str], Any] | None = None
    handlers: dict[str, Handler] = field(default_factory=dict)
    log: list[Delivery] = field(default_factory=list)
    on_delivery: Callable[[Delivery], None] | None = None
    # `make dev`: leave a subscriber's queue alone until its function exists (its events wait there).
    is_ready: Callable[[str], bool] | None = None
    # `make dev`: seconds before retry n (1-based), like a rule's backoff; None retries on the next poll.
    retry_delay: Callable[[int], int] | None = None

    def handler(self, function: str) -> Handler:
        if function not in self.handlers:
            self.handlers[function] = importlib.import_module(f"functions.{function}.app").handler
        return self.handlers[function]

    def poll_once(self, wait_seconds: int = 0) -> int:
        """Receive and handle what is waiting on every subscriber queue; returns deliveries made."""
        return sum(self.poll(function, wait_seconds) for function in self.routes)

    def poll(self, function: str, wait_seconds: int = 0) -> int:
        """Receive and handle what waits on one subscriber's queue (long polling for up to
        `wait_seconds` when it is empty); returns deliveries made."""
        if self.is_ready is not None and not self.is_ready(function):
            return 0
        queue_url, dlq_url = self.routes[function]
        messages = self.sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["ApproximateReceiveCount"],
            VisibilityTimeout=0,
        ).get("Messages", [])
        for message in messages:
            self._deliver(function, queue_url, dlq_url, message)
        return len(messages)

    def drain(self, max_rounds: int = 50) -> list[Delivery]:
        """Poll until every queue is empty (tests); returns this drain's deliveries."""
        start = len(self.log)
        for _ in range(max_rounds):
            if not self.poll_once():
                break
        return self.log[start:]

    def _deliver(self, function: str, queue_url: str, dlq_url: str, message: dict[str, Any]) -> None:
        event = json.loads(message["Body"])
        event.setdefault("account", self.account)  # moto's events lack it; EventBridge always sends it
        event.setdefault("id", str(uuid.uuid4()))
        attempt = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        context = self.context_factory(function) if self.context_factory else None
        try:
            self.handler(function)(event, context)
        except Exception as error:  # the subscriber failed: retry, then DLQ
            outcome = "dlq" if attempt >= self.max_attempts else "retry"
            self._record(function, event, attempt, outcome, f"{type(error).__name__}: {error}")
            if outcome == "dlq":
                record = failure_record(function, event, attempt, error, self.account)
                self.sqs.send_message(QueueUrl=dlq_url, MessageBody=json.dumps(record))
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            elif self.retry_delay is not None:
                self.sqs.change_message_visibility(
                    QueueUrl=queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=self.retry_delay(attempt),
                )
            return
        self._record(function, event, attempt, "ok")
        self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

    def _record(
        self, function: str, event: dict[str, Any], attempt: int, outcome: str, error: str | None = None
    ) -> None:
        delivery = Delivery(
            function,
            str(event.get("id")),
            str(event.get("detail-type")),
            attempt,
            outcome,
            error,
            _subject(event),
        )
        self.log.append(delivery)
        level = logging.WARNING if outcome != "ok" else logging.INFO
        logger.log(
            level,
            "%s %s -> %s attempt %d: %s%s",
            delivery.detail_type,
            delivery.event_id,
            function,
            attempt,
            outcome,
            f" ({error})" if error else "",
        )
        if self.on_delivery:
            self.on_delivery(delivery)


def failure_record(
    function: str, event: dict[str, Any], attempts: int, error: Exception, account: str
) -> dict[str, Any]:
    """Lambda's record of an asynchronous invocation that failed `attempts` times (what its on-failure
    destination receives, as documented for Lambda's destinations)."""
    request_id = str(uuid.uuid4())
    return {
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestContext": {
            "requestId": request_id,
            "functionArn": f"arn:aws:lambda:{REGION}:{account}:function:{function}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {
            # The pool's invocation errors carry the handler's own exception type.
            "errorType": getattr(error, "error_type", None) or type(error).__name__,
            "errorMessage": str(error),
            "requestId": request_id,
            "stackTrace": [],
        },
    }


def subscriber_names() -> list[str]:
    return [f.name for f in catalog.subscribers()]
