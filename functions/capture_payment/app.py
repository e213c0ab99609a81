"""POST /v1/payments/{payment_id}/capture: capture an authorized payment, all of it or part of it
(admins: the catalog flags the route admin_only)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header

from payments.application.commit import Store
from payments.application.manage_payment import Actor, capture_payment
from payments.application.ports import PaymentGateway
from payments.domain.payment import Payment
from payments.http import api
from payments.http.schemas import CaptureRequest, PaymentResource, Problem

app = api.create_app()


@app.post(
    "/payments/<payment_id>/capture",
    summary="Capture an authorized payment (all or part of it; the rest is released)",
    responses={
        200: {"description": "Captured", "content": {"application/json": {"model": PaymentResource}}},
        409: {
            "description": "Not capturable (captured, canceled or expired already) or more than authorized",
            "content": {"application/problem+json": {"model": Problem}},
        },
    },
    tags=["payments"],
)
def capture(
    payment_id: str,
    request: Annotated[CaptureRequest | None, Body()] = None,
    idempotency_key: Annotated[str | None, Header(alias="idempotency-key")] = None,
) -> Response[Any]:
    amount = request.amount if request else None
    caller = api.caller(app)  # an admin (the route is admin_only): who approves a held payment

    def act(payment: Payment, store: Store, gateway: PaymentGateway) -> Payment:
        return capture_payment(payment, store, gateway, amount, by=Actor(caller.sub, caller.is_admin))

    return api.payment_command(app, "capture_payment", payment_id, act)


handler = api.lambda_handler(app)
