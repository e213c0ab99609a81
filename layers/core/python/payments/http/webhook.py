"""The webhook's HTTP glue: the raw body and signature from API Gateway's event, the answer Stripe gets,
and its metrics (the receiver is payments.application.webhook).

No resolver and none of the API's body guards: the signature covers the exact bytes Stripe sent
(base64-decoded when API Gateway encoded them), and Stripe's events may exceed the API's body limit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from payments.domain.errors import PaymentsError
from payments.http.guards import raw_body
from payments.http.problems import error_response, problem_body, proxy_response
from payments.observability import count, logger, metrics
from payments.snapstart import entry_point

# Refusals worth alarming on get a metric of their own (CDK alarms on WebhookSignatureFailures).
_REFUSAL_METRICS = {
    "signature_invalid": "WebhookSignatureFailures",
    "malformed_event": "WebhookMalformedEvents",
    "livemode_mismatch": "WebhookWrongMode",
}


def lambda_handler() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics(raise_on_empty_metrics=False)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return receive(event, context)

    return entry_point(handler)


def receive(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from aws_lambda_powertools.metrics import MetricUnit

    from payments import services

    headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
    try:
        receipt = services.webhook_receiver().receive(
            raw_body(event), headers.get("stripe-signature"), lambda_context=context
        )
    except PaymentsError as error:
        if error.code in _REFUSAL_METRICS:
            count(_REFUSAL_METRICS[error.code])
        logger.warning("webhook refused", extra={"code": error.code, "status": error.status})
        return error_response(error)
    except Exception:
        # Stripe retries a 500; whatever failed (the bus, a secret) gets another chance.
        logger.exception("webhook failed")
        count("WebhookFailures")
        detail = "the event was not accepted; retry later"
        return proxy_response(500, problem_body(500, "internal_error", "Internal error", detail))
    logger.info(
        "webhook handled",
        extra={"stripe_event_id": receipt.event_id, "type": receipt.event_type, "outcome": receipt.outcome},
    )
    count(receipt.outcome)
    if receipt.slimmed:
        count("WebhookEventsSlimmed")
    metrics.add_metric(name="WebhookLagSeconds", unit=MetricUnit.Seconds, value=max(receipt.lag_seconds, 0))
    return proxy_response(
        200, {"received": True, "id": receipt.event_id, "outcome": receipt.outcome.name.lower()}
    )
