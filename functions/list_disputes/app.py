"""GET /v1/disputes: the disputes in one status (default needs_response), the soonest due first (admins:
the catalog flags the route admin_only)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from payments import services
from payments.application.dispute_responses import list_disputes
from payments.domain.dispute import DisputeStatus
from payments.http import api
from payments.http.pagination import DEFAULT_LIMIT, MAX_LIMIT
from payments.http.schemas import DisputeList, dispute_resource

app = api.create_app()


@app.get(
    "/disputes",
    summary="List disputes",
    responses={
        200: {
            "description": "A page of disputes in the status, the soonest due first",
            "content": {"application/json": {"model": DisputeList}},
        }
    },
    tags=["disputes"],
)
def list_all(
    status: Annotated[DisputeStatus, Query()] = DisputeStatus.NEEDS_RESPONSE,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response[Any]:
    paging = api.paging(api.caller(app), status=status, limit=limit)
    page = list_disputes(services.dispute_records(), status, limit, paging.start(cursor))
    return api.json_response(200, paging.body([dispute_resource(r) for r in page.items], page.next_key))


handler = api.lambda_handler(app)
