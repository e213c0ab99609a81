"""GET /v1/risk/blocklist: the blocklist entries in force, of one kind or all, by kind and newest first
(admins: the catalog flags the route admin_only). Expired entries are not listed."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from payments import services
from payments.application.risk_admin import list_entries
from payments.domain.risk_rules import BlocklistKind
from payments.http import api
from payments.http.pagination import DEFAULT_LIMIT, MAX_LIMIT
from payments.http.schemas import BlocklistEntryList

app = api.create_app()


@app.get(
    "/risk/blocklist",
    summary="List blocklist entries",
    responses={
        200: {
            "description": "A page of entries in force (a page may be short before the last)",
            "content": {"application/json": {"model": BlocklistEntryList}},
        }
    },
    tags=["risk"],
)
def list_blocklist(
    kind: Annotated[BlocklistKind | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response[Any]:
    paging = api.paging(api.caller(app), kind=kind, limit=limit)
    page = list_entries(services.risk_admin(), kind, limit, paging.start(cursor))
    return api.json_response(200, paging.body([e.model_dump(mode="json") for e in page.items], page.next_key))


handler = api.lambda_handler(app)
