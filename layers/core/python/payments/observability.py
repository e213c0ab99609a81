"""Logger, Metrics and Tracer shared by every function (service name, namespace and stage from the
environment: POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE, STAGE, set by CDK and the local stack
from the catalog)."""

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
# Every metric carries its stage beside the service (the alarms and dashboard of a stage select it:
# infra/catalog.py metric_dimensions), so two stages in one account never mix.
metrics.set_default_dimensions(stage=os.environ.get("STAGE", "local"))


def count(name: str, value: int = 1) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def tracing_enabled() -> bool:
    """X-Ray only where a daemon listens (in Lambda with active tracing); off locally and in tests."""
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() in ("1", "true"):
        return False
    return "AWS_XRAY_DAEMON_ADDRESS" in os.environ


# What our code calls out with: the AWS SDK and Stripe's SDK (over requests). Patching only these, not
# every library the X-Ray SDK knows, saves about 80 ms of each on-demand cold start (each patch imports
# the library it patches) and traces the same calls.
TRACED_LIBRARIES = ("botocore", "requests")


class Traced:
    """The function's handler with Powertools Tracer around it, built on the first invocation rather
    than at import: the X-Ray SDK and its patching cost ~70-150 ms of cold start, and nothing is traced
    before the first request. Under SnapStart it is built before the snapshot (payments.snapstart)."""

    def __init__(self, handler: Callable[[dict[str, Any], Any], Any]) -> None:
        self._handler = handler
        self._wrapped: Callable[[dict[str, Any], Any], Any] | None = None

    def set_up(self) -> None:
        if self._wrapped is not None:
            return
        if tracing_enabled():
            from aws_lambda_powertools import Tracer

            self._wrapped = Tracer(patch_modules=TRACED_LIBRARIES).capture_lambda_handler(self._handler)
        else:
            self._wrapped = self._handler

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.set_up()
        assert self._wrapped is not None
        return self._wrapped(event, context)
