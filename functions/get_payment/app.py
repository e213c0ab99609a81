"""GET /v1/payments/{payment_id}: one payment, its refunds included."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from payments import services
from payments.application.queries import get_payment
from payments.http import api
from payments.http.schemas import PaymentResource, payment_resource

app = api.create_app()


@app.get(
    "/payments/<payment_id>",
    summary="Get a payment",
    responses={
        200: {"description": "The payment", "content": {"application/json": {"model": PaymentResource}}}
    },
    tags=["payments"],
)
def read_payment(payment_id: str) -> Response[Any]:
    caller = api.caller(app)
    view = get_payment(services.payments_reader(), payment_id, viewer=caller.sub, admin=caller.is_admin)
    return api.json_response(200, payment_resource(view.payment, view.refunds, admin=caller.is_admin))


handler = api.lambda_handler(app)
