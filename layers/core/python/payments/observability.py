"""Logger, Metrics and Tracer shared by every function (service name and namespace from environment:
POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE, set by CDK and the local stack from the catalog)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

# A request refused before any business metric (a 4xx) flushes an empty set: normal here, not a warning
# worth a log line per request.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "payments"))
metrics = Metrics(
    namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Payments"),
    service=os.environ.get("POWERTOOLS_SERVICE_NAME", "payments"),
)


def count(name: str, value: int = 1) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def tracing_enabled() -> bool:
    """X-Ray only where a daemon listens (in Lambda with active tracing); off locally and in tests."""
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() in ("1", "true"):
        return False
    return "AWS_XRAY_DAEMON_ADDRESS" in os.environ


def traced(handler: Callable[[dict[str, Any], Any], Any]) -> Callable[[dict[str, Any], Any], Any]:
    """The function's entry point: Powertools Tracer around `handler`, built on the first invocation
    rather than at import (the X-Ray SDK and its patching cost ~150 ms of cold start, and nothing is
    traced before the first request) or, under SnapStart, before the snapshot (payments.snapstart)."""
    wrapped: list[Callable[[dict[str, Any], Any], Any]] = []

    def set_up() -> None:
        if wrapped:
            return
        if tracing_enabled():
            from aws_lambda_powertools import Tracer

            wrapped.append(Tracer().capture_lambda_handler(handler))
        else:
            wrapped.append(handler)

    def invoke(event: dict[str, Any], context: Any) -> Any:
        set_up()
        return wrapped[0](event, context)

    from payments import snapstart

    snapstart.prime(extra=set_up)
    return invoke
