"""POST /v1/risk/blocklist: block a card fingerprint, card BIN, issuing country or customer (admins: the
catalog flags the route admin_only). The entry is stored with its audit record; the checks read it on the
next payment. One entry per kind and value: another one in force answers 409 `blocklist_entry_exists`."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header

from payments import services
from payments.application.risk_admin import NewEntry, add_entry, change_id
from payments.domain.risk_rules import BlocklistEntry
from payments.http import api
from payments.http.api import Command
from payments.http.idempotency import ApiResult
from payments.http.schemas import BlocklistEntryRequest, Problem

app = api.create_app()
OPERATION = "risk_add_blocklist_entry"


@app.post(
    "/risk/blocklist",
    summary="Add a blocklist entry",
    responses={
        201: {"description": "The entry", "content": {"application/json": {"model": BlocklistEntry}}},
        400: {
            "description": "`validation_error`: a value not of its kind's form, an unknown kind or field, "
            "`expires_at` not in the future",
            "content": {"application/problem+json": {"model": Problem}},
        },
        409: {
            "description": "`blocklist_entry_exists`: an entry for this value is in force (`entry_id`)",
            "content": {"application/problem+json": {"model": Problem}},
        },
    },
    tags=["risk"],
)
def add(
    request: Annotated[BlocklistEntryRequest, Body()],
    idempotency_key: Annotated[str | None, Header(alias="idempotency-key")] = None,
) -> Response[Any]:
    caller = api.caller(app)
    wanted = NewEntry(request.kind, request.value, request.reason, request.expires_at)

    def run(command: Command) -> ApiResult:
        change = change_id(OPERATION, caller.sub, command.idempotency_key)
        entry = add_entry(services.risk_admin(), services.publisher(), wanted, caller.sub, change)
        return ApiResult(201, entry.model_dump(mode="json"))

    return api.idempotent_command(app, OPERATION, caller, run)


handler = api.lambda_handler(app)
