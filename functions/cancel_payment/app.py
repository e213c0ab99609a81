"""POST /v1/payments/{payment_id}/cancel: cancel before capture (the owner or an admin)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header

from payments import services
from payments.application.manage_payment import cancel_payment
from payments.application.queries import payment_for
from payments.http import api
from payments.http.idempotency import ApiResult
from payments.http.schemas import PaymentResource, payment_resource

app = api.create_app()


@app.post(
    "/payments/<payment_id>/cancel",
    summary="Cancel a payment that is not captured",
    responses={200: {"description": "Canceled", "content": {"application/json": {"model": PaymentResource}}}},
    tags=["payments"],
)
def cancel(
    payment_id: str, idempotency_key: Annotated[str | None, Header(alias="idempotency-key")] = None
) -> Response[Any]:
    caller = api.caller(app)

    def run() -> ApiResult:
        store = services.store()
        payment = payment_for(store.payments, payment_id, viewer=caller.sub, admin=caller.is_admin)
        return ApiResult(200, payment_resource(cancel_payment(payment, store, services.gateway())))

    return api.idempotent_command(app, "cancel_payment", caller, run)


handler = api.lambda_handler(app)
