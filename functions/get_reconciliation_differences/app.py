"""GET /v1/reconciliation/runs/{run_id}/differences: every difference of a completed run as CSV, for ops
(admins only); 409 while the run is running or after it failed."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from payments import services
from payments.application.reconciliation import all_differences
from payments.http import api
from payments.http.schemas import CSV_COLUMNS, Problem, RunId, differences_csv

app = api.create_app()
CSV = "text/csv; charset=utf-8"


@app.get(
    "/reconciliation/runs/<run_id>/differences",
    summary="A reconciliation run's differences as CSV",
    responses={
        200: {
            "description": f"RFC 4180 CSV with a header row: {', '.join(CSV_COLUMNS)}",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        409: {
            "description": "`reconciliation_not_completed`: the run is running or failed",
            "content": {"application/problem+json": {"model": Problem}},
        },
    },
    tags=["reconciliation"],
)
def differences(run_id: Annotated[RunId, Path()]) -> Response[Any]:
    run, found = all_differences(services.reconciliation_runs(), run_id)
    return Response(
        200,
        CSV,
        differences_csv(run, found),
        headers={"Content-Disposition": f'attachment; filename="{run.id}.csv"'},
    )


handler = api.lambda_handler(app)
