"""PUT /v1/risk/rules: replace the risk rules (admins: the catalog flags the route admin_only).

The body is the whole rules document with the `version` it replaces (the one GET answered); it is
stored as the next version with its audit record, or answers 409 `rules_version_stale` when someone
changed the rules since. The functions that check payments read the new rules within their cache time.
"""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header

from payments import services
from payments.application.risk_admin import change_id, replace_rules
from payments.domain.risk_rules import RiskRules
from payments.http import api
from payments.http.api import Command
from payments.http.idempotency import ApiResult
from payments.http.schemas import Problem

app = api.create_app()
OPERATION = "risk_put_rules"


@app.put(
    "/risk/rules",
    summary="Replace the risk rules",
    responses={
        200: {
            "description": "The rules now in force, with their new version",
            "content": {"application/json": {"model": RiskRules}},
        },
        400: {
            "description": "`validation_error`: an unknown field, a limit not above 0, a window of 0 or over "
            "7 days, a currency or country code in the wrong form, a hold of 7 days or more",
            "content": {"application/problem+json": {"model": Problem}},
        },
        409: {
            "description": "`rules_version_stale`: `version` is not the current version (see "
            "`current_version`): read the rules again",
            "content": {"application/problem+json": {"model": Problem}},
        },
    },
    tags=["risk"],
)
def put_rules(
    rules: Annotated[RiskRules, Body()],
    idempotency_key: Annotated[str | None, Header(alias="idempotency-key")] = None,
) -> Response[Any]:
    caller = api.caller(app)

    def run(command: Command) -> ApiResult:
        change = change_id(OPERATION, caller.sub, command.idempotency_key)
        stored = replace_rules(services.risk_admin(), services.publisher(), rules, caller.sub, change)
        return ApiResult(200, stored.model_dump(mode="json"))

    return api.idempotent_command(app, OPERATION, caller, run)


handler = api.lambda_handler(app)
