"""GET /v1/payments: a customer's own payments; admins filter by customer_id or status, or find an order's
payment by order_id."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from payments import services
from payments.application.queries import ListQuery, list_payments
from payments.domain.payment import PaymentStatus
from payments.http import api
from payments.http.pagination import DEFAULT_LIMIT, MAX_LIMIT
from payments.http.schemas import OrderId, PaymentList, payment_resource

app = api.create_app()

ORDER_LOOKUP = (
    "Customers list their own payments (by status too). Admins list any customer's payments "
    "(customer_id, optionally with status), or every payment in one status. `order_id` (admins only: "
    "403 for anyone else) finds the order's current payment exactly: its live payment, or, when none "
    "is live, the last payment that claimed the order (failed or canceled). The order's claim keeps "
    "only that one payment, so earlier failed or canceled attempts the customer retried are not "
    "listed. The answer is the same list, with at most one payment and next_cursor null; an order "
    "no payment claimed is an empty list. order_id takes neither customer_id nor status (400)."
)


@app.get(
    "/payments",
    summary="List payments",
    description=ORDER_LOOKUP,
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
    order_id: Annotated[OrderId | None, Query(description="The order's current payment (admins)")] = None,
) -> Response[Any]:
    caller = api.caller(app)
    # order_id joins the cursor's binding only when given: the other listings' cursors stay as they were,
    # and no cursor is one of an order's lookup (it has no next page).
    by_order = {"order_id": order_id} if order_id is not None else {}
    paging = api.paging(caller, customer_id=customer_id, status=status, limit=limit, **by_order)
    page = list_payments(
        services.payments_reader(),
        ListQuery(customer_id=customer_id, status=status, limit=limit, order_id=order_id),
        paging.start(cursor),
        viewer=caller.sub,
        admin=caller.is_admin,
    )
    return api.json_response(
        200, paging.body([payment_resource(p, admin=caller.is_admin) for p in page.items], page.next_key)
    )


handler = api.lambda_handler(app)
