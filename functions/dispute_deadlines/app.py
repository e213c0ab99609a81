"""Scheduled: announce disputes still waiting for our evidence 72 and 24 hours before Stripe's deadline
(DisputeDeadlineApproaching, each once), and report how many are past it (DisputesPastDue, alarmed)."""

from typing import Any

from payments import services
from payments.application.dispute_deadlines import watch_deadlines
from payments.observability import count, logger, metrics


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(raise_on_empty_metrics=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    with services.store().batch() as store:  # the run's events in one PutEvents
        report = watch_deadlines(store, services.dispute_records())
    # Reported on every run, 0 included: the alarm treats silence as the watcher having stopped.
    count("DisputesPastDue", report.past_due)
    count("DisputeDeadlineNotices", report.announced)
    logger.info("dispute deadlines watched", extra=report.as_dict())
    if report.failed:
        # After the others' notices went out: the function's errors alarm, and the next run retries.
        raise RuntimeError(f"deadline notices not recorded for {', '.join(report.failed)}")
    return report.as_dict()
