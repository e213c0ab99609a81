"""GET /v1/reconciliation/runs/{run_id}: a run's summary, its counts per class and a page of its
differences (none unless it completed), with the ids on both sides (admins only)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from payments import services
from payments.application.reconciliation import run_with_differences
from payments.http import api
from payments.http.pagination import DEFAULT_LIMIT, MAX_LIMIT
from payments.http.schemas import (
    ReconciliationRunDetail,
    RunId,
    difference_resource,
    reconciliation_run_resource,
)

app = api.create_app()


@app.get(
    "/reconciliation/runs/<run_id>",
    summary="A reconciliation run and its differences",
    responses={
        200: {
            "description": "The run's summary and a page of its differences, in order",
            "content": {"application/json": {"model": ReconciliationRunDetail}},
        }
    },
    tags=["reconciliation"],
)
def get_run(
    run_id: Annotated[RunId, Path()],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response[Any]:
    paging = api.paging(api.caller(app), run_id=run_id, limit=limit)
    run, page = run_with_differences(services.reconciliation_runs(), run_id, limit, paging.start(cursor))
    body = paging.body([difference_resource(d) for d in page.items], page.next_key)
    return api.json_response(
        200,
        {**reconciliation_run_resource(run), "differences": body["data"], "next_cursor": body["next_cursor"]},
    )


handler = api.lambda_handler(app)
