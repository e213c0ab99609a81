"""POST /v1/payments/{payment_id}/cancel: cancel before capture (the owner or an admin)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header

from payments.application.manage_payment import cancel_payment
from payments.http import api
from payments.http.schemas import PaymentResource

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
    return api.payment_command(app, "cancel_payment", payment_id, cancel_payment)


handler = api.lambda_handler(app)
