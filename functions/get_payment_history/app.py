"""GET /v1/payments/{payment_id}/events: every domain event of the payment, oldest first."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from payments import services
from payments.application.queries import payment_history
from payments.http import api
from payments.http.schemas import PaymentHistory, history_resource

app = api.create_app()


@app.get(
    "/payments/<payment_id>/events",
    summary="A payment's history",
    responses={
        200: {"description": "The events", "content": {"application/json": {"model": PaymentHistory}}}
    },
    tags=["payments"],
)
def history(payment_id: str) -> Response[Any]:
    caller = api.caller(app)
    events = payment_history(services.payments_reader(), payment_id, viewer=caller.sub, admin=caller.is_admin)
    return api.json_response(200, history_resource(payment_id, events, admin=caller.is_admin))


handler = api.lambda_handler(app)
