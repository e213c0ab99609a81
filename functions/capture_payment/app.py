"""POST /v1/payments/{payment_id}/capture: capture an authorized payment (admins: the catalog flags
the route admin_only)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header

from payments.application.manage_payment import capture_payment
from payments.http import api
from payments.http.schemas import PaymentResource

app = api.create_app()


@app.post(
    "/payments/<payment_id>/capture",
    summary="Capture an authorized payment",
    responses={200: {"description": "Captured", "content": {"application/json": {"model": PaymentResource}}}},
    tags=["payments"],
)
def capture(
    payment_id: str, idempotency_key: Annotated[str | None, Header(alias="idempotency-key")] = None
) -> Response[Any]:
    return api.payment_command(app, "capture_payment", payment_id, capture_payment)


handler = api.lambda_handler(app)
