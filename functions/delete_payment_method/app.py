"""DELETE /v1/payment-methods/{payment_method_id}: detach in Stripe and forget the method (owner)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header

from payments import services
from payments.application.payment_methods import delete_payment_method
from payments.http import api
from payments.http.api import Command
from payments.http.idempotency import ApiResult
from payments.observability import count

app = api.create_app()


@app.delete(
    "/payment-methods/<payment_method_id>",
    summary="Delete a saved payment method",
    responses={204: {"description": "Deleted"}},
    tags=["payment methods"],
)
def delete(
    payment_method_id: str, idempotency_key: Annotated[str | None, Header(alias="idempotency-key")] = None
) -> Response[Any]:
    caller = api.caller(app)

    def run(_: Command) -> ApiResult:
        delete_payment_method(
            caller.sub,
            payment_method_id,
            services.payment_methods(),
            services.gateway(),
            services.publisher(),
        )
        count("PaymentMethodsDeleted")
        return ApiResult(204)

    # The Idempotency-Key is accepted on DELETE, not required: without one a repeated delete answers
    # 404, which is the truth. A key that is sent must be one: a blank key is a 400 that says so, and a
    # key used for another request is a 422.
    return api.idempotent_command(app, "delete_payment_method", caller, run)


handler = api.lambda_handler(app)
