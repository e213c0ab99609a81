"""Integration fixtures: moto in-process with the catalog's resources, and the Stripe emulator."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.local import resources
from infra.local.stripe_emulator import StripeEmulator
from payments import services

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
        resources.create_tables(boto3.client("dynamodb"))
        resources.create_bus(boto3.client("events"))
        resources.create_secrets(
            boto3.client("secretsmanager"), stripe_api_key=STRIPE_TEST_KEY, webhook_secret=WEBHOOK_SECRET
        )
        yield {"dynamodb": boto3.client("dynamodb"), "events": boto3.client("events")}
        services.reset()


@pytest.fixture(scope="session", autouse=True)
def nothing_loads_stripes_parameter_types() -> Iterator[None]:
    """The deps layer leaves stripe/params out (layers/deps/prune.py): the code these tests run through
    the real SDK must never need it."""
    yield
    loaded = sorted(name for name in sys.modules if name.split(".")[:2] == ["stripe", "params"])
    assert loaded == [], f"stripe's type-only package was loaded at run time: {loaded[:3]}"


@pytest.fixture(scope="session", autouse=True)
def moto_like_dynamodb() -> Iterator[None]:
    """moto as the local stack runs it: atomic conditional writes, item-level transaction rollback
    (infra/local/moto_patches.py)."""
    from infra.local.moto_patches import like_dynamodb

    undo = like_dynamodb()
    yield
    undo()


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


# --------------------------------------------------------------------------- Stripe webhooks, metrics


class WebhookEndpoint:
    """A tiny HTTP server on 127.0.0.1 standing in for API Gateway: each request Stripe (the emulator)
    sends becomes API Gateway's event for the real webhook handler, whose status code Stripe gets."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        from tests.support.api import invoke_event
        from tests.support.stripe_webhooks import forward_request

        self.answers: list[tuple[str, int]] = []  # (Stripe event id, status), in arrival order
        lock = threading.Lock()
        answers = self.answers

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                response = invoke_event("stripe_webhook", forward_request(dict(self.headers), body))
                with lock:
                    answers.append((json.loads(body)["id"], response.status))
                self.send_response(response.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1/webhooks/stripe"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture(scope="session")
def webhook_endpoint() -> Iterator[WebhookEndpoint]:
    endpoint = WebhookEndpoint()
    yield endpoint
    endpoint.stop()


@pytest.fixture(scope="session")
def hooked_stripe_emulator(webhook_endpoint: WebhookEndpoint) -> Iterator[StripeEmulator]:
    emulator = StripeEmulator(
        host="127.0.0.1",
        port=0,
        webhook_endpoints=[(webhook_endpoint.url, WEBHOOK_SECRET)],
        webhook_retry_delays=(0.2, 0.5, 1.0),
    ).start()
    yield emulator
    emulator.stop()


@pytest.fixture
def stripe_chain(
    aws: dict[str, Any], hooked_stripe_emulator: StripeEmulator, webhook_endpoint: WebhookEndpoint
) -> Iterator[StripeEmulator]:
    """The whole chain offline: the service talks to an emulator that sends its events, signed, to the
    real webhook handler (through `webhook_endpoint`), which puts them on the bus in moto."""
    hooked_stripe_emulator.reset()
    webhook_endpoint.answers.clear()
    os.environ["STRIPE_API_BASE"] = hooked_stripe_emulator.url
    services.reset()
    yield hooked_stripe_emulator
    hooked_stripe_emulator.wait_for_webhooks(timeout=5)
    hooked_stripe_emulator.reset()


@pytest.fixture
def emitted_metrics(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """Turns Powertools metrics on; calling the result sums, per metric name, what was flushed (EMF on
    stdout) since the last call."""
    from payments.observability import metrics

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    metrics.clear_metrics()  # what earlier code added outside a handler must not count here
    capsys.readouterr()

    def collect() -> dict[str, float]:
        totals: dict[str, float] = {}
        for line in capsys.readouterr().out.splitlines():
            if not line.startswith("{") or '"_aws"' not in line:
                continue
            document = json.loads(line)
            for directive in document["_aws"]["CloudWatchMetrics"]:
                for metric in directive["Metrics"]:
                    value = document[metric["Name"]]
                    totals[metric["Name"]] = totals.get(metric["Name"], 0) + sum(
                        value if isinstance(value, list) else [value]
                    )
        return totals

    return collect
