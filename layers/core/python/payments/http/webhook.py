"""The webhook's HTTP glue: the raw body and signature from API Gateway's event, the answer Stripe gets,
its metrics, and the dedupe on Stripe's event id over the Powertools idempotency utility.

No resolver and none of the API's body guards: the signature covers the exact bytes Stripe sent
(base64-decoded when API Gateway encoded them), and Stripe's events may exceed the API's body limit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from payments.domain.errors import PaymentsError, RequestInProgress
from payments.http.guards import raw_body
from payments.http.problems import problem, retry_after
from payments.observability import count, logger, metrics, traced

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

    return traced(handler)


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
        return problem(error.status, error.code, error.title, error.detail, retry_after(error), **error.extra)
    except Exception:
        # Stripe retries a 500; whatever failed (the bus, a secret) gets another chance.
        logger.exception("webhook failed")
        count("WebhookFailures")
        return problem(500, "internal_error", "Internal error", "the event was not accepted; retry later")
    logger.info(
        "webhook handled",
        extra={"stripe_event_id": receipt.event_id, "type": receipt.event_type, "outcome": receipt.outcome},
    )
    count(receipt.outcome)
    if receipt.slimmed:
        count("WebhookEventsSlimmed")
    metrics.add_metric(name="WebhookLagSeconds", unit=MetricUnit.Seconds, value=max(receipt.lag_seconds, 0))
    body = {"received": True, "id": receipt.event_id, "outcome": receipt.outcome.name.lower()}
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body, separators=(",", ":")),
        "isBase64Encoded": False,
    }


class EventIdDedupe:
    """Deduplicator over Powertools idempotency: one record per Stripe event id in the idempotency
    table, kept `expires_after_seconds`. A failed action deletes its record (Powertools does that on
    an exception), so nothing remembers a failed forward."""

    def __init__(self, table: str, expires_after_seconds: int) -> None:
        self.table = table
        self.expires_after_seconds = expires_after_seconds
        self._runner: tuple[Any, Callable[..., dict[str, Any]]] | None = None

    def first_time(self, key: str, action: Callable[[], None], lambda_context: Any = None) -> bool:
        from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

        config, run = self._build()
        if lambda_context is not None:
            # A crashed or timed-out attempt's claim then expires with its invocation, not in 4 days.
            config.register_lambda_context(lambda_context)
        try:
            result = run(event={"id": key}, action=action)
        except IdempotencyAlreadyInProgressError:
            raise RequestInProgress("this event is being forwarded by another delivery") from None
        return not result.get("replayed", False)

    def _build(self) -> tuple[Any, Callable[..., dict[str, Any]]]:
        if self._runner is None:
            from aws_lambda_powertools.utilities.idempotency import (
                DynamoDBPersistenceLayer,
                IdempotencyConfig,
                idempotent_function,
            )

            from payments.adapters.aws import client

            persistence = DynamoDBPersistenceLayer(table_name=self.table, boto3_client=client("dynamodb"))
            config = IdempotencyConfig(
                event_key_jmespath="id",
                raise_on_no_idempotency_key=True,
                expires_after_seconds=self.expires_after_seconds,
                response_hook=lambda response, _: {**response, "replayed": True},
            )

            @idempotent_function(
                data_keyword_argument="event",
                persistence_store=persistence,
                config=config,
                key_prefix="stripe.webhook",
            )
            def run(event: dict[str, str], action: Callable[[], None]) -> dict[str, Any]:
                action()
                return {"forwarded": True}

            self._runner = (config, run)
        return self._runner
