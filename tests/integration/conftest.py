"""Integration fixtures: moto in-process with the catalog's resources, and the Stripe emulator."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.local import resources
from infra.local.stripe_emulator import StripeEmulator
from payments import services
from payments.http import idempotency

STRIPE_TEST_KEY = "sk_test_integration"
WEBHOOK_SECRET = "whsec_integration_current"


@pytest.fixture(scope="session")
def stripe_emulator() -> Iterator[StripeEmulator]:
    emulator = StripeEmulator(host="127.0.0.1", port=0).start()
    yield emulator
    emulator.stop()


@pytest.fixture
def emulator(stripe_emulator: StripeEmulator) -> Iterator[StripeEmulator]:
    stripe_emulator.reset()
    os.environ["STRIPE_API_BASE"] = stripe_emulator.url
    yield stripe_emulator
    os.environ.pop("STRIPE_API_BASE", None)


@pytest.fixture
def aws(emulator: StripeEmulator) -> Iterator[dict[str, Any]]:
    """A fresh moto account per test with every table, the bus and the secrets of the catalog."""
    with mock_aws():
        services.reset()
        idempotency.reset()
        resources.create_tables(boto3.client("dynamodb"))
        resources.create_bus(boto3.client("events"))
        resources.create_secrets(
            boto3.client("secretsmanager"), stripe_api_key=STRIPE_TEST_KEY, webhook_secret=WEBHOOK_SECRET
        )
        yield {"dynamodb": boto3.client("dynamodb"), "events": boto3.client("events")}
        services.reset()
        idempotency.reset()


@pytest.fixture(scope="session", autouse=True)
def atomic_moto_dynamodb() -> Iterator[None]:
    """DynamoDB applies a conditional write atomically; moto checks then writes without a lock, so
    threads could both pass a condition. Serialize moto's write paths to get DynamoDB's semantics."""
    import threading

    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    originals = {}
    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        original = getattr(DynamoDBBackend, name)
        originals[name] = original

        def locked(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return __original(self, *args, **kwargs)

        setattr(DynamoDBBackend, name, locked)
    yield
    for name, original in originals.items():
        setattr(DynamoDBBackend, name, original)


class BusCapture:
    """Everything published on the payments bus, through a catch-all rule into an SQS queue."""

    def __init__(self, events: Any, sqs: Any) -> None:
        self.sqs = sqs
        self.queue_url = sqs.create_queue(QueueName="bus-capture")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(
            Name="capture-all", EventBusName="payments", EventPattern='{"source": ["payments", "stripe"]}'
        )
        events.put_targets(Rule="capture-all", EventBusName="payments", Targets=[{"Id": "q", "Arn": arn}])
        self.seen: list[dict[str, Any]] = []

    def drain(self) -> list[dict[str, Any]]:
        import json

        while True:
            batch = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not batch:
                return self.seen
            for message in batch:
                self.seen.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def types(self) -> list[str]:
        return [e["detail-type"] for e in self.drain()]


@pytest.fixture
def bus(aws: dict[str, Any]) -> BusCapture:
    return BusCapture(aws["events"], boto3.client("sqs"))


@pytest.fixture
def dispatcher(aws: dict[str, Any]) -> Any:
    """The catalog's subscriber rules routed to SQS in moto; `dispatcher.drain()` runs the handlers."""
    from infra.local.dispatcher import EventDispatcher
    from tests.support.lambda_context import FakeLambdaContext

    sqs = boto3.client("sqs")
    routes = resources.create_subscriber_routes(aws["events"], sqs)
    return EventDispatcher(sqs, routes, context_factory=lambda name: FakeLambdaContext(function_name=name))
