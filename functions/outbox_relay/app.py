"""Scheduled: republish domain events whose publish after commit did not happen (a crash, a failed
PutEvents). Delivery is at least once; consumers dedupe on event_id."""

from typing import Any

from payments import services
from payments.application.outbox import relay_unpublished
from payments.config import settings
from payments.observability import logger, metrics


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(raise_on_empty_metrics=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    report = relay_unpublished(services.store(), min_age_seconds=settings().outbox_min_age_seconds)
    logger.info("outbox relayed", extra=report.as_dict())
    return report.as_dict()
