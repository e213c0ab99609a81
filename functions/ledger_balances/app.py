"""GET /v1/ledger/balances (admins): each account's balance over a period, and the trial balance."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from payments import services
from payments.application.ledger_queries import balance_report, ledger_period
from payments.http import api
from payments.http.params import FirstDay, LastDay
from payments.http.schemas import Currency, LedgerBalances, ledger_balances_resource

app = api.create_app()


@app.get(
    "/ledger/balances",
    summary="Account balances and the trial balance",
    responses={
        200: {
            "description": "Each account's balance over the period, debit positive, and their sum",
            "content": {"application/json": {"model": LedgerBalances}},
        }
    },
    tags=["ledger"],
)
def read_balances(
    currency: Annotated[Currency, Query(description="ISO 4217 code, any case")],
    first_day: FirstDay = None,
    last_day: LastDay = None,
) -> Response[Any]:
    period = ledger_period(currency, first_day, last_day)
    report = balance_report(services.ledger(), period)
    body = ledger_balances_resource(
        period.currency,
        period.first_day,
        period.last_day,
        list(report.balances.items()),
        report.trial_balance,
    )
    return api.json_response(200, body)


handler = api.lambda_handler(app)
