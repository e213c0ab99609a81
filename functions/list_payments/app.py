"""GET /v1/payments: a customer's own payments; admins filter by customer_id or status."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from payments import services
from payments.adapters.secrets import secret_string
from payments.application.queries import ListQuery, list_payments
from payments.config import settings
from payments.domain.payment import PaymentStatus
from payments.http import api
from payments.http.pagination import DEFAULT_LIMIT, MAX_LIMIT, binding_for, decode_cursor, encode_cursor
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
    key = secret_string(settings().require("cursor_key_secret")).encode()
    binding = binding_for(caller.sub, customer_id=customer_id, status=status, limit=limit)
    start = decode_cursor(cursor, key, binding)
    page = list_payments(
        services.payments_reader(),
        ListQuery(customer_id=customer_id, status=status, limit=limit),
        start,
        viewer=caller.sub,
        admin=caller.is_admin,
    )
    return api.json_response(
        200,
        {
            "data": [payment_resource(p) for p in page.items],
            "next_cursor": encode_cursor(page.next_key, key, binding),
        },
    )


handler = api.lambda_handler(app)
