"""GET /v1/reconciliation/runs: reconciliation runs, the most recently started first (admins: the catalog
flags the route admin_only)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from payments import services
from payments.application.reconciliation import list_runs
from payments.http import api
from payments.http.pagination import DEFAULT_LIMIT, MAX_LIMIT
from payments.http.schemas import ReconciliationRunList, reconciliation_run_resource

app = api.create_app()


@app.get(
    "/reconciliation/runs",
    summary="List reconciliation runs",
    responses={
        200: {
            "description": "A page of runs, the most recently started first",
            "content": {"application/json": {"model": ReconciliationRunList}},
        }
    },
    tags=["reconciliation"],
)
def list_all(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response[Any]:
    paging = api.paging(api.caller(app), limit=limit)
    page = list_runs(services.reconciliation_runs(), limit, paging.start(cursor))
    return api.json_response(
        200, paging.body([reconciliation_run_resource(r) for r in page.items], page.next_key)
    )


handler = api.lambda_handler(app)
