"""GET /v1/ledger/entries (admins): a currency's journal entries over a period, oldest first, paged."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from payments import services
from payments.application.ledger_queries import journal_page, ledger_period
from payments.http import api
from payments.http.pagination import DEFAULT_LIMIT, MAX_LIMIT
from payments.http.params import FirstDay, LastDay
from payments.http.schemas import Currency, JournalEntryList, journal_entry_resource

app = api.create_app()


@app.get(
    "/ledger/entries",
    summary="List journal entries",
    responses={
        200: {
            "description": "A page of journal entries, oldest first",
            "content": {"application/json": {"model": JournalEntryList}},
        }
    },
    tags=["ledger"],
)
def list_entries(
    currency: Annotated[Currency, Query(description="ISO 4217 code, any case")],
    first_day: FirstDay = None,
    last_day: LastDay = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response[Any]:
    period = ledger_period(currency, first_day, last_day)
    # Bound to the period as resolved: a cursor of "today" is not carried over to another day.
    paging = api.paging(
        api.caller(app),
        currency=period.currency,
        first_day=period.first_day,
        last_day=period.last_day,
        limit=limit,
    )
    page = journal_page(services.ledger(), period, limit, paging.start(cursor))
    return api.json_response(
        200, paging.body([journal_entry_resource(e) for e in page.entries], page.next_key)
    )


handler = api.lambda_handler(app)
