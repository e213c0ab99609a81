"""Scheduled: settle payments and refunds that a request left waiting for Stripe, and expire the review
holds not decided in time (see payments.application.janitor). What it cannot settle is counted in
JanitorUnsettled (alarmed)."""

from typing import Any

from payments import services
from payments.application.janitor import settle_stale
from payments.config import settings
from payments.observability import count, logger, metrics


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(raise_on_empty_metrics=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    with services.store().batch() as store:  # the run's events in one PutEvents
        report = settle_stale(
            store,
            services.refunds(),
            services.gateway(),
            min_age_seconds=settings().janitor_min_age_seconds,
            hold_hours=services.risk_policy().rules().review.review_hold_hours,
        )
    count("JanitorUnsettled", report.unsettled)
    logger.info("janitor ran", extra=report.as_dict())
    return report.as_dict()
