"""GET /v1/payment-methods/{payment_method_id}: one of the caller's saved payment methods."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from payments import services
from payments.application.payment_methods import get_payment_method
from payments.http import api
from payments.http.schemas import PaymentMethodResource, payment_method_resource

app = api.create_app()


@app.get(
    "/payment-methods/<payment_method_id>",
    summary="Get a saved payment method",
    responses={
        200: {"description": "The method", "content": {"application/json": {"model": PaymentMethodResource}}}
    },
    tags=["payment methods"],
)
def read_method(payment_method_id: str) -> Response[Any]:
    caller = api.caller(app)
    method = get_payment_method(caller.sub, payment_method_id, services.payment_methods())
    return api.json_response(200, payment_method_resource(method))


handler = api.lambda_handler(app)
