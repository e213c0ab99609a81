"""Reconcile the ledger with Stripe's balance transactions (payments.application.reconciliation):

- scheduled (daily): yesterday, UTC;
- EventBridge (source stripe) `payout.paid` and `payout.reconciliation_completed`: that payout;
- invoked directly: `{"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}` or `{"payout_id": "po_..."}`.

Answers the run's summary. A run whose Stripe read failed is stored `failed` and the error raised, so
the schedule's or the rule's retries run it again (then its DLQ keeps the event); a run with unexplained
differences completes and is counted in ReconciliationUnexplainedDifferences (alarmed).
"""

from typing import Any

from payments import services
from payments.application.reconciliation import RunRequest, payout_request, period_request, yesterday
from payments.domain.errors import FieldError, ValidationFailed
from payments.http.schemas import reconciliation_run_resource
from payments.observability import logger, metrics
from payments.subscriber import StripeBusEvent


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(raise_on_empty_metrics=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = request_of(event)
    logger.append_keys(run_id=request.run_id)
    result = services.reconciler().run(request)
    summary = reconciliation_run_resource(result.run)
    if result.error is not None:
        logger.error("reconciliation failed; retried", extra={"code": result.error.code})
        raise result.error
    logger.info("reconciliation completed", extra={"unexplained": summary["unexplained"]})
    return summary


def request_of(event: dict[str, Any]) -> RunRequest:
    if event.get("source") == "stripe":
        payout = StripeBusEvent.model_validate(event).detail.data.object
        return payout_request(payout.get("id"))
    if event.get("source") == "aws.events" or not (set(event) & {"from", "to", "payout_id"}):
        return yesterday()
    if "payout_id" in event:
        if "from" in event or "to" in event:
            raise ValidationFailed([FieldError("body", "send a period (`from` and `to`) or a `payout_id`")])
        return payout_request(event["payout_id"])
    return period_request(event.get("from"), event.get("to"))
