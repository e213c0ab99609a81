"""POST /v1/payments/{payment_id}/cancel: cancel before capture (the owner or an admin)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header

from payments.application.commit import Store
from payments.application.manage_payment import Actor, cancel_payment
from payments.application.ports import PaymentGateway
from payments.domain.payment import Payment
from payments.http import api
from payments.http.schemas import PaymentResource, Problem

app = api.create_app()


@app.post(
    "/payments/<payment_id>/cancel",
    summary="Cancel a payment that is not captured",
    responses={
        200: {"description": "Canceled", "content": {"application/json": {"model": PaymentResource}}},
        409: {
            "description": "Not cancelable (captured, failed, canceled), or under review: only an admin's "
            "cancel rejects a held payment (payment_under_review)",
            "content": {"application/problem+json": {"model": Problem}},
        },
    },
    tags=["payments"],
)
def cancel(
    payment_id: str, idempotency_key: Annotated[str | None, Header(alias="idempotency-key")] = None
) -> Response[Any]:
    caller = api.caller(app)  # an admin's cancel of a held payment rejects it; a customer's is refused

    def act(payment: Payment, store: Store, gateway: PaymentGateway) -> Payment:
        return cancel_payment(payment, store, gateway, by=Actor(caller.sub, caller.is_admin))

    return api.payment_command(app, "cancel_payment", payment_id, act)


handler = api.lambda_handler(app)
