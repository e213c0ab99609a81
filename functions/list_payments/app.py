"""GET /v1/payments: a customer's own payments; admins filter by customer_id or status."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from payments import services
from payments.application.queries import ListQuery, list_payments
from payments.domain.payment import PaymentStatus
from payments.http import api
from payments.http.pagination import DEFAULT_LIMIT, MAX_LIMIT
from payments.http.schemas import PaymentList, payment_resource

app = api.create_app()


@app.get(
    "/payments",
    summary="List payments",
    responses={
        200: {"description": "A page of payments", "content": {"application/json": {"model": PaymentList}}}
    },
    tags=["payments"],
)
def list_all(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    customer_id: Annotated[str | None, Query(max_length=128)] = None,
    status: Annotated[PaymentStatus | None, Query()] = None,
) -> Response[Any]:
    caller = api.caller(app)
    paging = api.paging(caller, customer_id=customer_id, status=status, limit=limit)
    page = list_payments(
        services.payments_reader(),
        ListQuery(customer_id=customer_id, status=status, limit=limit),
        paging.start(cursor),
        viewer=caller.sub,
        admin=caller.is_admin,
    )
    return api.json_response(
        200, paging.body([payment_resource(p, admin=caller.is_admin) for p in page.items], page.next_key)
    )


handler = api.lambda_handler(app)
