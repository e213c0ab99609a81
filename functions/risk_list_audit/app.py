"""GET /v1/risk/audit: every change of the risk rules and the blocklist, newest first: who, when, and the
rules or the entry before and after (admins: the catalog flags the route admin_only)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from payments import services
from payments.application.risk_admin import audit_trail
from payments.http import api
from payments.http.pagination import DEFAULT_LIMIT, MAX_LIMIT
from payments.http.schemas import AuditRecordList

app = api.create_app()


@app.get(
    "/risk/audit",
    summary="The audit trail of the risk rules and the blocklist",
    responses={
        200: {
            "description": "A page of changes, newest first",
            "content": {"application/json": {"model": AuditRecordList}},
        }
    },
    tags=["risk"],
)
def list_audit(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response[Any]:
    paging = api.paging(api.caller(app), limit=limit)
    page = audit_trail(services.risk_admin(), limit, paging.start(cursor))
    return api.json_response(200, paging.body([r.model_dump(mode="json") for r in page.items], page.next_key))


handler = api.lambda_handler(app)
