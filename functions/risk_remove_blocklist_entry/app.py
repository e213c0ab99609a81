"""DELETE /v1/risk/blocklist/{entry_id}: remove a blocklist entry (admins: the catalog flags the route
admin_only), with its audit record. As on every DELETE the Idempotency-Key is optional: without one, a
repeated removal answers 404."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Path

from payments import services
from payments.application.risk_admin import change_id, remove_entry
from payments.domain.risk_rules import BlocklistEntryId
from payments.http import api
from payments.http.api import Command
from payments.http.idempotency import ApiResult
from payments.http.schemas import Problem

app = api.create_app()
OPERATION = "risk_remove_blocklist_entry"


@app.delete(
    "/risk/blocklist/<entry_id>",
    summary="Remove a blocklist entry",
    responses={
        204: {"description": "Removed"},
        404: {
            "description": "`not_found`: no such entry, or it was removed already",
            "content": {"application/problem+json": {"model": Problem}},
        },
    },
    tags=["risk"],
)
def remove(
    entry_id: Annotated[BlocklistEntryId, Path()],
    idempotency_key: Annotated[str | None, Header(alias="idempotency-key")] = None,
) -> Response[Any]:
    caller = api.caller(app)

    def run(command: Command) -> ApiResult:
        change = change_id(OPERATION, caller.sub, command.idempotency_key)
        remove_entry(services.risk_admin(), services.publisher(), entry_id, caller.sub, change)
        return ApiResult(204)

    return api.idempotent_command(app, OPERATION, caller, run)


handler = api.lambda_handler(app)
