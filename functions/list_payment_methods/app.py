"""GET /v1/payment-methods: the caller's saved payment methods."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from payments import services
from payments.application.payment_methods import list_payment_methods
from payments.http import api
from payments.http.pagination import DEFAULT_LIMIT, MAX_LIMIT
from payments.http.schemas import PaymentMethodList, payment_method_resource

app = api.create_app()


@app.get(
    "/payment-methods",
    summary="List saved payment methods",
    responses={
        200: {
            "description": "A page of methods",
            "content": {"application/json": {"model": PaymentMethodList}},
        }
    },
    tags=["payment methods"],
)
def list_methods(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response[Any]:
    caller = api.caller(app)
    paging = api.paging(caller, resource="payment_methods", limit=limit)
    page = list_payment_methods(caller.sub, services.payment_methods(), limit, paging.start(cursor))
    return api.json_response(
        200, paging.body([payment_method_resource(m) for m in page.items], page.next_key)
    )


handler = api.lambda_handler(app)
