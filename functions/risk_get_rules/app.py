"""GET /v1/risk/rules: the risk rules in force, to edit and PUT back (admins: the catalog flags the route
admin_only). Until an admin stores rules, the defaults (version 0) are in force."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from payments import services
from payments.application.risk_admin import current_rules
from payments.domain.risk_rules import RiskRules
from payments.http import api

app = api.create_app()


@app.get(
    "/risk/rules",
    summary="The risk rules in force",
    responses={
        200: {
            "description": "The rules with their version (0: the defaults, never stored)",
            "content": {"application/json": {"model": RiskRules}},
        }
    },
    tags=["risk"],
)
def get_rules() -> Response[Any]:
    return api.json_response(200, current_rules(services.risk_admin()).model_dump(mode="json"))


handler = api.lambda_handler(app)
