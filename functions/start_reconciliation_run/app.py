"""POST /v1/reconciliation/runs: reconcile a period or a payout with Stripe now (admins: the catalog flags
the route admin_only). The run is synchronous and answers its summary: 201 when it completed; when a
Stripe read failed, the run is stored `failed` and the answer is Stripe's 5xx (or 429) problem with
`run_id` and `run_status`, which idempotency does not keep, so the same request runs it again."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header

from payments import services
from payments.application.reconciliation import RunRequest, payout_request, period_request
from payments.http import api
from payments.http.api import Command
from payments.http.idempotency import ApiResult
from payments.http.schemas import (
    Problem,
    ReconciliationRunRequest,
    ReconciliationRunResource,
    reconciliation_run_resource,
)

app = api.create_app()


@app.post(
    "/reconciliation/runs",
    summary="Reconcile a period or a payout with Stripe",
    responses={
        201: {
            "description": "The run completed: its summary (`unexplained` is 0 on a clean run)",
            "content": {"application/json": {"model": ReconciliationRunResource}},
        },
        400: {
            "description": "`validation_error`: neither or both forms, a malformed day, `to` before `from`, "
            "a day in the future, a period over 31 days",
            "content": {"application/problem+json": {"model": Problem}},
        },
        404: {
            "description": "`not_found`: Stripe has no such payout",
            "content": {"application/problem+json": {"model": Problem}},
        },
        409: {
            "description": "`concurrent_update`: the same run is running (started by another request); retry",
            "content": {"application/problem+json": {"model": Problem}},
        },
        502: {
            "description": "A Stripe read failed: the run is stored `failed` (`run_id`, `run_status`); "
            "retry with the same Idempotency-Key",
            "content": {"application/problem+json": {"model": Problem}},
        },
    },
    tags=["reconciliation"],
)
def start_run(
    request: Annotated[ReconciliationRunRequest, Body()],
    idempotency_key: Annotated[str | None, Header(alias="idempotency-key")] = None,
) -> Response[Any]:
    caller = api.caller(app)
    # Checked before the Idempotency-Key is taken: a refused request stores nothing.
    wanted: RunRequest = (
        payout_request(request.payout_id)
        if request.payout_id is not None
        else period_request(request.from_, request.to)
    )

    def run(_: Command) -> ApiResult:
        result = services.reconciler().run(wanted)
        if result.error is not None:
            result.error.extra["run"] = reconciliation_run_resource(result.run)
            raise result.error
        return ApiResult(201, reconciliation_run_resource(result.run))

    return api.idempotent_command(app, "start_reconciliation_run", caller, run)


handler = api.lambda_handler(app)
