"""POST /v1/payment-methods: save a Stripe payment method for the caller."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header

from payments import services
from payments.application.payment_methods import save_payment_method
from payments.http import api
from payments.http.api import Command
from payments.http.idempotency import ApiResult
from payments.http.schemas import PaymentMethodResource, SavePaymentMethodRequest, payment_method_resource
from payments.observability import count

app = api.create_app()


@app.post(
    "/payment-methods",
    summary="Save a payment method",
    responses={
        201: {"description": "Saved", "content": {"application/json": {"model": PaymentMethodResource}}},
        200: {
            "description": "This card was saved already: the saved method",
            "content": {"application/json": {"model": PaymentMethodResource}},
        },
    },
    tags=["payment methods"],
)
def save(
    request: Annotated[SavePaymentMethodRequest, Body()],
    idempotency_key: Annotated[str | None, Header(alias="idempotency-key")] = None,
) -> Response[Any]:
    caller = api.caller(app)

    def run(_: Command) -> ApiResult:
        saved = save_payment_method(
            caller.sub,
            request.payment_method_id,
            services.payment_methods(),
            services.gateway(),
            services.publisher(),
            usage=request.usage,
        )
        count("PaymentMethodsSaved" if saved.created else "PaymentMethodsSavedAgain")
        return ApiResult(201 if saved.created else 200, payment_method_resource(saved.method, saved.setup))

    return api.idempotent_command(app, "save_payment_method", caller, run)


handler = api.lambda_handler(app)
